package dev.hardmine.replay;

import dev.hardmine.avro.EmbeddingBatch;
import java.io.File;
import java.io.IOException;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;

/**
 * EmbeddingBatch records from an Avro object container file. Files written with an older
 * compatible schema are resolved to the current one.
 */
public final class AvroFileBatchSource implements BatchSource {
    private final DataFileReader<EmbeddingBatch> reader;
    private long record;

    public AvroFileBatchSource(File file) throws IOException {
        try {
            reader = new DataFileReader<>(file, new SpecificDatumReader<>(EmbeddingBatch.class));
        } catch (IOException | AvroRuntimeException e) {
            throw new ReplayException(file.getPath(), "malformed", "not an Avro container file of EmbeddingBatch: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public EmbeddingBatch next() {
        try {
            if (!reader.hasNext()) {
                return null;
            }
            record++;
            return reader.next();
        } catch (AvroRuntimeException e) {
            throw new ReplayException(position(), "avro-decode", "cannot decode: " + e.getMessage(), e);
        }
    }

    @Override
    public String position() {
        return "record " + record;
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
