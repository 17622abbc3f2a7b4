package dev.hardmine.mining;

/**
 * Whether and how a job keeps the identities most confusable with each of its identities (see
 * {@link NeighborList}).
 *
 * @param perIdentity   confusable identities kept and published per identity; 0 = none kept (off)
 * @param halfLifeSteps training steps after which a confusion event counts half (&gt; 0)
 */
public record NeighborSettings(int perIdentity, double halfLifeSteps) {
    public static final double DEFAULT_HALF_LIFE_STEPS = 200;
    /** Off: the default, since it costs a store update and a record per identity per batch. */
    public static final NeighborSettings OFF = new NeighborSettings(0, DEFAULT_HALF_LIFE_STEPS);

    public NeighborSettings {
        if (perIdentity < 0) {
            throw new IllegalArgumentException("neighbors.per-identity must be >= 0 (0 = off), got " + perIdentity);
        }
        if (!(halfLifeSteps > 0) || Double.isInfinite(halfLifeSteps)) {
            throw new IllegalArgumentException("neighbors.half-life-steps must be a finite number > 0, got "
                    + halfLifeSteps);
        }
    }

    public boolean enabled() {
        return perIdentity > 0;
    }

    /** 2^(-steps / half-life): what an event {@code steps} steps ago counts. */
    double decay(long steps) {
        return Math.pow(2.0, -steps / halfLifeSteps);
    }
}
