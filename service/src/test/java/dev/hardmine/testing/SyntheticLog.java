package dev.hardmine.testing;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.Sample;
import dev.hardmine.mining.Embeddings;
import dev.hardmine.json.RecordJson;
import dev.hardmine.replay.JsonLines;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Small clustered embedding logs for tests: per batch {@code identities} labels drawn from a pool
 * three times as large, {@code perIdentity} samples each, Gaussian around the label's centre.
 * Batches alternate between jobs {@code job-0} and {@code job-1} and workers {@code w0..w2}.
 */
public final class SyntheticLog {
    private SyntheticLog() {
    }

    public static List<EmbeddingBatch> batches(long seed, int count, int identities, int perIdentity, int dim) {
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

    public static List<String> toJsonLines(List<EmbeddingBatch> batches) {
        List<String> lines = new ArrayList<>();
        for (EmbeddingBatch b : batches) {
            StringWriter w = new StringWriter();
            try (JsonGenerator g = JsonLines.MAPPER.getFactory().createGenerator(w)) {
                RecordJson.write(g, b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            lines.add(w.toString());
        }
        return lines;
    }
}
