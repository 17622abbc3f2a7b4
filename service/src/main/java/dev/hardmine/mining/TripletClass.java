package dev.hardmine.mining;

/**
 * Hardness of a triplet (a, p, n) by its gap g = d(a,n) − d(a,p), computed in float32 as
 * pytorch-metric-learning's TripletMarginMiner does: hard if g ≤ 0, semi-hard if 0 < g ≤ margin,
 * easy if g > margin.
 */
public enum TripletClass {
    HARD, SEMI_HARD, EASY;

    /** Classifies a triplet from its two distances. */
    public static TripletClass of(float dAp, float dAn, float margin) {
        float gap = dAn - dAp;
        if (gap <= 0f) {
            return HARD;
        }
        return gap <= margin ? SEMI_HARD : EASY;
    }

    /**
     * The largest float {@code u} such that {@code u − dAp <= margin} in float32 arithmetic:
     * a negative at distance d is hard or semi-hard for a positive at {@code dAp} exactly when
     * {@code d <= semiHardBound(dAp, margin)}.
     */
    public static float semiHardBound(float dAp, float margin) {
        float u = dAp + margin;
        for (int i = 0; i < 64 && u - dAp > margin; i++) {
            u = Math.nextDown(u);
        }
        for (int i = 0; i < 64 && u != Float.MAX_VALUE && Math.nextUp(u) - dAp <= margin; i++) {
            u = Math.nextUp(u);
        }
        return u;
    }
}
