package dev.hardmine.replay;

import dev.hardmine.avro.EmbeddingBatch;
import java.io.Closeable;
import java.io.IOException;

/** A recorded log of EmbeddingBatch records, read in order. */
public interface BatchSource extends Closeable {
    /** The next batch, or null at the end. Bad input raises {@link ReplayException}. */
    EmbeddingBatch next() throws IOException;

    /** Where the last batch returned by {@link #next()} came from, e.g. {@code line 12}. */
    String position();
}
