package dev.hardmine.mining;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Small random jobs for property tests, everything derived from a seed: 1–6 batches of 0–24
 * samples, 2–6 labels, dimension 1–8 (2–8 for Gaussian values). Sample ids are drawn from a pool smaller than the number
 * of samples, so ids are re-published (sometimes under another label); steps mostly advance,
 * sometimes stand still, sometimes a late batch arrives with an older step.
 */
final class RandomJobs {

    /** What the embedding values look like. */
    enum Values {
        /** Integers in −3..3: euclidean and squared-euclidean distances are exact, ties are frequent. */
        SMALL_INTEGERS,
        /**
         * Integer vectors with |x|² ∈ {1, 4, 16}, now and then the zero vector: every division by a
         * norm is by a power of two, so cosine distances and normalised embeddings are exact too.
         */
        POWER_OF_TWO_NORMS,
        /** Standard normal: ties improbable, nothing exact. */
        GAUSSIAN
    }

    private RandomJobs() {
    }

    static List<SampleBatch> batches(long seed, Values values) {
        Random random = new Random(seed);
        int batches = 1 + random.nextInt(6);
        int labels = 2 + random.nextInt(5);
        // In one dimension every cosine distance is 0 or 2: Gaussian jobs, meant to be tie-free, start at 2.
        int dim = values == Values.GAUSSIAN ? 2 + random.nextInt(7) : 1 + random.nextInt(8);
        int[] sizes = new int[batches];
        int total = 0;
        for (int b = 0; b < batches; b++) {
            sizes[b] = random.nextInt(30) == 0 ? 0 : 1 + random.nextInt(24);
            total += sizes[b];
        }
        int pool = Math.max(24, total * 2 / 3);
        Map<String, String> labelOf = new HashMap<>();
        List<SampleBatch> out = new ArrayList<>();
        long step = random.nextInt(5);
        for (int b = 0; b < batches; b++) {
            int n = sizes[b];
            List<String> ids = new ArrayList<>();
            while (ids.size() < n) {
                String id = "s" + random.nextInt(pool);
                if (!ids.contains(id)) {
                    ids.add(id);
                }
            }
            String[] labelArray = new String[n];
            for (int i = 0; i < n; i++) {
                String label = labelOf.get(ids.get(i));
                if (label == null || random.nextInt(10) == 0) {
                    label = "L" + random.nextInt(labels);
                    labelOf.put(ids.get(i), label);
                }
                labelArray[i] = label;
            }
            float[] embeddings = new float[n * dim];
            for (int i = 0; i < n; i++) {
                fill(random, values, embeddings, i * dim, dim);
            }
            out.add(new SampleBatch("b" + b, "w" + random.nextInt(3), step, dim,
                    ids.toArray(String[]::new), labelArray, embeddings));
            int move = random.nextInt(8);
            step += move == 0 ? -2 : move <= 2 ? 0 : move - 2;
        }
        return out;
    }

    /**
     * One batch of {@code n} samples with fresh ids {@code prefix0, prefix1, …} and labels drawn from
     * {@code L0 … L(labels-1)}.
     */
    static SampleBatch batch(Random random, Values values, String prefix, long step, int n, int dim, int labels) {
        String[] ids = new String[n];
        String[] labelArray = new String[n];
        float[] embeddings = new float[n * dim];
        for (int i = 0; i < n; i++) {
            ids[i] = prefix + i;
            labelArray[i] = "L" + random.nextInt(labels);
            fill(random, values, embeddings, i * dim, dim);
        }
        return new SampleBatch(prefix, "w0", step, dim, ids, labelArray, embeddings);
    }

    private static void fill(Random random, Values values, float[] out, int offset, int dim) {
        switch (values) {
            case SMALL_INTEGERS -> {
                for (int k = 0; k < dim; k++) {
                    out[offset + k] = random.nextInt(7) - 3;
                }
            }
            case GAUSSIAN -> {
                for (int k = 0; k < dim; k++) {
                    out[offset + k] = (float) random.nextGaussian();
                }
            }
            case POWER_OF_TWO_NORMS -> {
                int shape = random.nextInt(dim >= 4 ? 20 : 10);
                if (shape == 0) {
                    return; // the zero vector
                }
                if (shape < 10) {
                    // One non-zero component, ±1 or ±2: |x|² = 1 or 4.
                    out[offset + random.nextInt(dim)] = sign(random) * (1 + random.nextInt(2));
                } else {
                    // Four components of ±1 (|x|² = 4) or of ±2 (|x|² = 16).
                    float magnitude = 1 + random.nextInt(2);
                    int placed = 0;
                    while (placed < 4) {
                        int k = random.nextInt(dim);
                        if (out[offset + k] == 0f) {
                            out[offset + k] = sign(random) * magnitude;
                            placed++;
                        }
                    }
                }
            }
            default -> throw new IllegalArgumentException(values.toString());
        }
    }

    private static float sign(Random random) {
        return random.nextBoolean() ? 1f : -1f;
    }
}
