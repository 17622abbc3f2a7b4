package dev.hardmine.replay;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.Sample;
import dev.hardmine.mining.Embeddings;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Small clustered embedding logs for tests: P identities × K samples per batch, Gaussian around centres. */
final class SyntheticLog {
    private SyntheticLog() {
    }

    static List<EmbeddingBatch> batches(long seed, int count, int identities, int perIdentity, int dim) {
        Random random = new Random(seed);
        float[][] centres = new float[identities * 3][dim];
        for (float[] c : centres) {
            for (int k = 0; k < dim; k++) {
                c[k] = (float) random.nextGaussian();
            }
        }
        List<EmbeddingBatch> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            List<Sample> samples = new ArrayList<>();
            for (int p = 0; p < identities; p++) {
                int label = random.nextInt(centres.length);
                for (int k = 0; k < perIdentity; k++) {
                    float[] e = new float[dim];
                    for (int d = 0; d < dim; d++) {
                        e[d] = centres[label][d] + 0.6f * (float) random.nextGaussian();
                    }
                    samples.add(new Sample("img-" + label + "-" + random.nextInt(50), "id-" + label,
                            Embeddings.encodeLittleEndian(e, 0, dim)));
                }
            }
            // Sample ids must be unique within a batch; drop repeats drawn by chance.
            List<Sample> unique = new ArrayList<>();
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (Sample s : samples) {
                if (seen.add(s.getSampleId())) {
                    unique.add(s);
                }
            }
            out.add(EmbeddingBatch.newBuilder().setJobId("job-" + (b % 2)).setWorkerId("w" + (b % 3))
                    .setBatchId("batch-" + b).setStep(b).setModelVersion("")
                    .setProducedAt(Instant.ofEpochMilli(1_700_000_000_000L + b)).setDim(dim)
                    .setSamples(unique).build());
        }
        return out;
    }

    static List<String> toJsonLines(List<EmbeddingBatch> batches) {
        List<String> lines = new ArrayList<>();
        for (EmbeddingBatch b : batches) {
            StringWriter w = new StringWriter();
            try (JsonGenerator g = JsonLines.MAPPER.getFactory().createGenerator(w)) {
                JsonLines.writeEmbeddingBatch(g, b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            lines.add(w.toString());
        }
        return lines;
    }
}
