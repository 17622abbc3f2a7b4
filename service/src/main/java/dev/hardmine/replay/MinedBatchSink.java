package dev.hardmine.replay;

import dev.hardmine.avro.MinedBatch;
import java.io.Closeable;
import java.io.IOException;

/** Where replayed MinedBatch records go. */
public interface MinedBatchSink extends Closeable {
    void write(MinedBatch batch) throws IOException;

    /** Called once after the last record when the replay succeeded; close() alone discards. */
    void commit() throws IOException;
}
