package dev.hardmine.mining.internals;

/**
 * e^x for x ≤ 0 in single precision: the softmax-weighted negative distance evaluates it once per
 * (anchor, memory entry), where {@link Math#exp} costs about twice as much.
 *
 * <ul>
 *   <li>{@link #expNonPositive}: relative error below 3e-7 on [-87, 0]; 0 below -87. Scalar: C2
 *       does not vectorise its {@code Float.intBitsToFloat} on JDK 17.</li>
 *   <li>{@link #expMinus}: e^(−t) on the short range [0, {@value #EXP_MINUS_RANGE}), relative
 *       error below 5.1e-7, in float multiplications and additions only, so that a loop calling
 *       it is vectorised (16 lanes with AVX-512).</li>
 * </ul>
 */
public final class FastExp {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float ROUND = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
    // ln 2 split so that k * LN2_HI is exact for the k that occur (Cody-Waite reduction).
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;

    /** Exclusive upper end of the argument range of {@link #expMinus}. */
    public static final float EXP_MINUS_RANGE = 4f;

    // e^-(1/2 + v) on v in [-1/2, 1/2]: degree-7 minimax (Chebyshev) fit, relative error 1.2e-9.
    // Public for the vectorised twin of expMinus, which must do the same operations to give the same bits.
    public static final float M7 = -1.2118172E-4f;
    public static final float M6 = 8.4995397E-4f;
    public static final float M5 = -0.005054291f;
    public static final float M4 = 0.02527093f;
    public static final float M3 = -0.10108845f;
    public static final float M2 = 0.3032654f;
    public static final float M1 = -0.60653067f;
    public static final float M0 = 0.60653067f;

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

    /**
     * e^(−t) for 0 ≤ t < {@value #EXP_MINUS_RANGE}; meaningless outside (possibly infinite or NaN).
     * e^(−t) = (e^(−t/4))⁴ with e^(−t/4) = e^-(1/2 + v) by a polynomial in v = t/4 − 1/2 ∈ [−1/2, 1/2).
     * Only multiplications, additions and fused multiply-adds: no int conversion, no branch.
     * The two squarings quadruple the polynomial's rounding error, which is what limits the
     * range: all floats of the range checked, the relative error stays below 5.1e-7.
     */
    public static float expMinus(float t) {
        float v = (t - 2f) * 0.25f;
        float q = Math.fma(M7, v, M6);
        q = Math.fma(q, v, M5);
        q = Math.fma(q, v, M4);
        q = Math.fma(q, v, M3);
        q = Math.fma(q, v, M2);
        q = Math.fma(q, v, M1);
        q = Math.fma(q, v, M0);
        q = q * q;
        return q * q;
    }
}
