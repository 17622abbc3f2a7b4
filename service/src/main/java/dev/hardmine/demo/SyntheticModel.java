package dev.hardmine.demo;

import java.util.SplittableRandom;

/**
 * A dataset of {@code identities × imagesPerIdentity} images and a "model" that embeds them the
 * way a metric-learning model in training does: each identity has a centre on the unit
 * hypersphere, each image a fixed direction of its own; as the step grows the intra-class spread
 * shrinks (training separates the classes), while every embedding drifts slowly (the model keeps
 * changing). Early on mining finds many hard triplets; later mostly easy ones.
 *
 * <p>Deterministic: the same seed, identity, image and step give the same embedding.
 */
public final class SyntheticModel {
    private final int identities;
    private final int imagesPerIdentity;
    private final int dim;
    private final float[] centres;
    private final float[] directions;
    private final float[] driftA;
    private final float[] driftB;
    private final double initialSpread;
    private final double finalSpread;
    private final double spreadSteps;

    /**
     * @param spreadSteps steps over which the intra-class spread decays (by e each time)
     */
    public SyntheticModel(int identities, int imagesPerIdentity, int dim, double spreadSteps, long seed) {
        if (identities < 2 || imagesPerIdentity < 2 || dim < 2) {
            throw new IllegalArgumentException("need at least 2 identities, 2 images each and 2 dimensions");
        }
        this.identities = identities;
        this.imagesPerIdentity = imagesPerIdentity;
        this.dim = dim;
        this.initialSpread = 1.3;
        this.finalSpread = 0.35;
        this.spreadSteps = spreadSteps;
        SplittableRandom random = new SplittableRandom(seed);
        centres = units(random, identities);
        directions = units(random, identities * imagesPerIdentity);
        driftA = units(random, 1);
        driftB = units(random, 1);
    }

    private float[] units(SplittableRandom random, int count) {
        float[] out = new float[count * dim];
        for (int i = 0; i < count; i++) {
            double norm = 0;
            for (int k = 0; k < dim; k++) {
                double u = 1.0 - random.nextDouble();
                double g = Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2.0 * Math.PI * random.nextDouble());
                out[i * dim + k] = (float) g;
                norm += g * g;
            }
            float s = (float) (1.0 / Math.sqrt(norm));
            for (int k = 0; k < dim; k++) {
                out[i * dim + k] *= s;
            }
        }
        return out;
    }

    public int identities() {
        return identities;
    }

    public int imagesPerIdentity() {
        return imagesPerIdentity;
    }

    public int dim() {
        return dim;
    }

    /** Intra-class spread at a step: from 1.3 down towards 0.35. */
    public double spread(long step) {
        return finalSpread + (initialSpread - finalSpread) * Math.exp(-step / spreadSteps);
    }

    /** Writes the unit-norm embedding of (identity, image) at {@code step} into {@code out[offset …]}. */
    public void embed(int identity, int image, long step, float[] out, int offset) {
        double spread = spread(step);
        double angle = 2.0 * Math.PI * step / 4000.0;
        double a = 0.08 * Math.cos(angle);
        double b = 0.08 * Math.sin(angle);
        int c = identity * dim;
        int d = (identity * imagesPerIdentity + image) * dim;
        double norm = 0;
        for (int k = 0; k < dim; k++) {
            double v = centres[c + k] + spread * directions[d + k] + a * driftA[k] + b * driftB[k];
            out[offset + k] = (float) v;
            norm += v * v;
        }
        float s = (float) (1.0 / Math.sqrt(norm));
        for (int k = 0; k < dim; k++) {
            out[offset + k] *= s;
        }
    }

    /** The sample id of an image: {@code id<identity>/img<image>}. */
    public static String sampleId(int identity, int image) {
        return "id" + identity + "/img" + image;
    }

    /** The label of an identity: {@code id<identity>}. */
    public static String label(int identity) {
        return "id" + identity;
    }

    /** Parses a sample id back into {identity, image}, or null when it is not one of ours. */
    public static int[] parse(String sampleId) {
        int slash = sampleId.indexOf("/img");
        if (!sampleId.startsWith("id") || slash < 0) {
            return null;
        }
        try {
            return new int[] {Integer.parseInt(sampleId.substring(2, slash)),
                Integer.parseInt(sampleId.substring(slash + 4))};
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
