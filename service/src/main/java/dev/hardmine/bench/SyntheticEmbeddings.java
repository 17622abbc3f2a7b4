package dev.hardmine.bench;

import dev.hardmine.mining.SampleBatch;
import java.util.SplittableRandom;

/**
 * Clustered unit-norm embeddings for benchmarks: identity centres uniform on the sphere, samples
 * = centre + Gaussian noise, normalised. With {@code noise} 0.06 in 128 dims a positive pair is at
 * about 1.0 and a negative pair at about 1.4 (euclidean), so with margin 0.2 mining finds a mix
 * of hard, semi-hard and easy triplets, as in the middle of a training run.
 */
public final class SyntheticEmbeddings {
    private final int dim;
    private final float[][] centres;
    private final float noise;
    private final SplittableRandom random;

    public SyntheticEmbeddings(int identities, int dim, float noisePerDimension, long seed) {
        this.dim = dim;
        this.noise = noisePerDimension;
        this.random = new SplittableRandom(seed);
        this.centres = new float[identities][];
        for (int i = 0; i < identities; i++) {
            centres[i] = unit(gaussian(1f));
        }
    }

    public int dim() {
        return dim;
    }

    public int identities() {
        return centres.length;
    }

    private float[] gaussian(float scale) {
        float[] v = new float[dim];
        for (int k = 0; k < dim; k++) {
            v[k] = (float) (nextGaussian() * scale);
        }
        return v;
    }

    private double nextGaussian() {
        // Box-Muller on the splittable generator, for reproducible streams.
        double u = 1.0 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2.0 * Math.PI * v);
    }

    private static float[] unit(float[] v) {
        double n = 0;
        for (float x : v) {
            n += (double) x * x;
        }
        float s = (float) (1.0 / Math.sqrt(n));
        for (int k = 0; k < v.length; k++) {
            v[k] *= s;
        }
        return v;
    }

    /**
     * A P×K batch: {@code identities} identities drawn from {@code [first, first+range)}, {@code perIdentity}
     * samples each, sample ids prefixed with {@code prefix}.
     */
    public SampleBatch batch(String prefix, long step, int first, int range, int identities, int perIdentity) {
        int n = identities * perIdentity;
        String[] ids = new String[n];
        String[] labels = new String[n];
        float[] emb = new float[n * dim];
        int i = 0;
        for (int p = 0; p < identities; p++) {
            int label = first + (range == identities ? p : random.nextInt(range));
            for (int k = 0; k < perIdentity; k++) {
                float[] e = gaussian(noise);
                float[] c = centres[label];
                for (int d = 0; d < dim; d++) {
                    e[d] += c[d];
                }
                unit(e);
                System.arraycopy(e, 0, emb, i * dim, dim);
                ids[i] = prefix + "-" + i;
                labels[i] = "id-" + label;
                i++;
            }
        }
        return new SampleBatch(prefix, "bench", step, dim, ids, labels, emb);
    }
}
