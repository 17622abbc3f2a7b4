package dev.hardmine.mining;

/**
 * How triplets are selected and measured for a job. Immutable; validated on construction.
 *
 * @param strategy           which triplets are emitted
 * @param margin             triplet margin (≥ 0), in units of the distance
 * @param distance           distance between embeddings
 * @param normalize          L2-normalise embeddings on ingestion (before they enter the memory)
 * @param maxPerAnchor       for hard / semi-hard / easy / all / distance-weighted: at most this many
 *                           triplets per anchor, smallest gap first; 0 = all
 * @param negativesPerAnchor for n-pair: how many nearest other identities give a negative
 * @param seed               seed of the distance-weighted sampler
 * @param memorySampling     memory samples sent back with each mined batch ({@link MemorySampling#NONE}: none)
 */
public record MiningSettings(
        Strategy strategy,
        float margin,
        Distance distance,
        boolean normalize,
        int maxPerAnchor,
        int negativesPerAnchor,
        long seed,
        MemorySampling memorySampling) {

    public static final Strategy DEFAULT_STRATEGY = Strategy.BATCH_HARD;
    public static final float DEFAULT_MARGIN = 0.2f;
    public static final Distance DEFAULT_DISTANCE = Distance.EUCLIDEAN;
    public static final int DEFAULT_NEGATIVES_PER_ANCHOR = 5;

    public MiningSettings {
        if (strategy == null) {
            throw new IllegalArgumentException("mining.strategy is required");
        }
        if (distance == null) {
            throw new IllegalArgumentException("mining.distance is required");
        }
        if (!(margin >= 0f) || Float.isInfinite(margin)) {
            throw new IllegalArgumentException("mining.margin must be a finite number >= 0, got " + margin);
        }
        if (maxPerAnchor < 0) {
            throw new IllegalArgumentException("mining.max-per-anchor must be >= 0 (0 = no limit), got " + maxPerAnchor);
        }
        if (memorySampling == null) {
            throw new IllegalArgumentException("memory sampling settings are required (MemorySampling.NONE for none)");
        }
        if (negativesPerAnchor < 1) {
            throw new IllegalArgumentException("mining.negatives-per-anchor must be >= 1, got " + negativesPerAnchor);
        }
    }

    /**
     * batch-hard, margin 0.2, euclidean, no normalisation, no per-anchor limit, 5 negatives, seed 0,
     * no memory samples sent back.
     */
    public static MiningSettings defaults() {
        return new MiningSettings(DEFAULT_STRATEGY, DEFAULT_MARGIN, DEFAULT_DISTANCE, false, 0,
                DEFAULT_NEGATIVES_PER_ANCHOR, 0L, MemorySampling.NONE);
    }

    public MiningSettings withStrategy(Strategy s) {
        return new MiningSettings(s, margin, distance, normalize, maxPerAnchor, negativesPerAnchor, seed, memorySampling);
    }

    public MiningSettings withMargin(float m) {
        return new MiningSettings(strategy, m, distance, normalize, maxPerAnchor, negativesPerAnchor, seed, memorySampling);
    }

    public MiningSettings withDistance(Distance d) {
        return new MiningSettings(strategy, margin, d, normalize, maxPerAnchor, negativesPerAnchor, seed, memorySampling);
    }

    public MiningSettings withNormalize(boolean n) {
        return new MiningSettings(strategy, margin, distance, n, maxPerAnchor, negativesPerAnchor, seed, memorySampling);
    }

    public MiningSettings withMaxPerAnchor(int n) {
        return new MiningSettings(strategy, margin, distance, normalize, n, negativesPerAnchor, seed, memorySampling);
    }

    public MiningSettings withNegativesPerAnchor(int n) {
        return new MiningSettings(strategy, margin, distance, normalize, maxPerAnchor, n, seed, memorySampling);
    }

    public MiningSettings withSeed(long s) {
        return new MiningSettings(strategy, margin, distance, normalize, maxPerAnchor, negativesPerAnchor, s, memorySampling);
    }

    public MiningSettings withMemorySampling(MemorySampling m) {
        return new MiningSettings(strategy, margin, distance, normalize, maxPerAnchor, negativesPerAnchor, seed, m);
    }
}
