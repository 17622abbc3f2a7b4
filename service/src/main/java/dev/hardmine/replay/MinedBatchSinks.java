package dev.hardmine.replay;

import dev.hardmine.mining.NeighborList;
import dev.hardmine.mining.NeighborSettings;
import dev.hardmine.stream.Neighbors;
import java.util.HashMap;
import java.util.Map;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.json.RecordJson;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.avro.file.CodecFactory;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Output of a replay. A file is written beside its final name and moved into place only when the
 * replay completes, so a failed replay never leaves a file that looks complete.
 */
public final class MinedBatchSinks {
    private MinedBatchSinks() {
    }

    /** JSON lines to an open stream (e.g. standard output); the stream is flushed, not closed. */
    public static MinedBatchSink jsonLines(OutputStream out) throws IOException {
        JsonGenerator g = JsonLines.lineGenerator(new BufferedOutputStream(out));
        g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
        return jsonLines(g);
    }

    private static MinedBatchSink jsonLines(JsonGenerator g) {
        return new MinedBatchSink() {
            @Override
            public void write(MinedBatch batch) throws IOException {
                RecordJson.write(g, batch);
                g.writeRaw('\n');
            }

            @Override
            public void commit() throws IOException {
                g.flush();
            }

            @Override
            public void close() throws IOException {
                g.close();
            }
        };
    }

    /**
     * {@code inner}, and beside it the hard-identity neighbours the stream would publish for the
     * same batches: JSON lines of IdentityNeighbors at {@code path}, one per label a batch touches,
     * appearing only on commit like the mined batches.
     */
    public static MinedBatchSink withNeighbors(MinedBatchSink inner, Path path, NeighborSettings settings)
            throws IOException {
        Path target = path.toAbsolutePath();
        Path partial = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".partial");
        JsonGenerator g = JsonLines.lineGenerator(new BufferedOutputStream(Files.newOutputStream(partial)));
        Map<String, Map<String, NeighborList>> byJob = new HashMap<>();
        return new MinedBatchSink() {
            private boolean committed;

            @Override
            public void write(MinedBatch batch) throws IOException {
                inner.write(batch);
                Map<String, NeighborList> lists = byJob.computeIfAbsent(batch.getJobId(), j -> new HashMap<>());
                for (var touched : Neighbors.record(batch, settings,
                        label -> lists.computeIfAbsent(label, l -> NeighborList.empty())).entrySet()) {
                    RecordJson.write(g, Neighbors.toRecord(batch.getJobId(), touched.getKey(),
                            touched.getValue(), settings));
                    g.writeRaw('\n');
                }
            }

            @Override
            public void commit() throws IOException {
                g.close();
                inner.commit();
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                committed = true;
            }

            @Override
            public void close() throws IOException {
                try {
                    inner.close();
                } finally {
                    if (!committed) {
                        g.close();
                        Files.deleteIfExists(partial);
                    }
                }
            }
        };
    }

    /** JSON lines or an Avro container file at {@code path}, appearing only on commit. */
    public static MinedBatchSink file(Path path, boolean avro) throws IOException {
        Path target = path.toAbsolutePath();
        Path partial = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".partial");
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(partial));
        MinedBatchSink inner;
        if (avro) {
            DataFileWriter<MinedBatch> writer = new DataFileWriter<>(new SpecificDatumWriter<>(MinedBatch.class));
            writer.setCodec(CodecFactory.deflateCodec(1));
            writer.create(MinedBatch.getClassSchema(), out);
            inner = new MinedBatchSink() {
                @Override
                public void write(MinedBatch batch) throws IOException {
                    writer.append(batch);
                }

                @Override
                public void commit() throws IOException {
                    writer.flush();
                }

                @Override
                public void close() throws IOException {
                    writer.close();
                }
            };
        } else {
            inner = jsonLines(JsonLines.lineGenerator(out));
        }
        return new MinedBatchSink() {
            private boolean committed;

            @Override
            public void write(MinedBatch batch) throws IOException {
                inner.write(batch);
            }

            @Override
            public void commit() throws IOException {
                inner.commit();
                inner.close();
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                committed = true;
            }

            @Override
            public void close() throws IOException {
                if (!committed) {
                    try {
                        inner.close();
                    } finally {
                        Files.deleteIfExists(partial);
                    }
                }
            }
        };
    }
}
