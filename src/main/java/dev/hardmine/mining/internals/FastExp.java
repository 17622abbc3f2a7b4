package dev.hardmine.mining.internals;

/**
 * e^x for x ≤ 0 in single precision: the hot loop of the softmax-weighted negative distance
 * evaluates it once per (anchor, memory entry), where {@link Math#exp} costs about twice as
 * much. Relative error below 3e-7 on [-87, 0]; 0 below -87.
 */
public final class FastExp {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float ROUND = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
    // ln 2 split so that k * LN2_HI is exact for the k that occur (Cody-Waite reduction).
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;

    private FastExp() {
    }

    /** e^x for x ≤ 0; 0 below -87 (where float would underflow to subnormals). */
    public static float expNonPositive(float x) {
        if (x < -87f) {
            return 0f;
        }
        float k = (x * LOG2E + ROUND) - ROUND;
        float r = (x - k * LN2_HI) - k * LN2_LO; // in [-0.35, 0.35]
        // e^r, Cephes expf minimax polynomial.
        float p = 1.9875691500e-4f;
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        float er = p * r * r + r + 1f;
        return er * Float.intBitsToFloat(((int) k + 127) << 23);
    }
}
