package dev.hardmine.mining;

import dev.hardmine.mining.internals.FastExp;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * {@link RowPass} in plain Java, for JVMs without the Vector API: the products of a chunk copied
 * out, converted and weighed in element-wise loops that C2 vectorises, then folded into the 16
 * lanes of the contract by groups of 16 slots.
 */
final class ScalarRowPass extends RowPass {
    private final float[] d = new float[CHUNK];
    private final float[] inverse = new float[CHUNK];
    private final float[] minimum = new float[CHUNK];
    private final float[] weight = new float[CHUNK];
    private final float[] excess = new float[CHUNK];

    /**
     * The smallest of {@code a[0 … n)}, folding {@code a} in place by halves in loops C2 vectorises
     * (a running minimum is one dependent instruction chain per slot).
     */
    private static float smallest(float[] a, int n) {
        Arrays.fill(a, n, CHUNK, Float.POSITIVE_INFINITY);
        // Halves of constant length, so that C2 sees the two ends of each fold never overlap.
        for (int k = 0; k < CHUNK / 2; k++) {
            a[k] = Math.min(a[k], a[k + CHUNK / 2]);
        }
        for (int k = 0; k < CHUNK / 4; k++) {
            a[k] = Math.min(a[k], a[k + CHUNK / 4]);
        }
        for (int k = 0; k < CHUNK / 8; k++) {
            a[k] = Math.min(a[k], a[k + CHUNK / 8]);
        }
        for (int k = 0; k < CHUNK / 16; k++) {
            a[k] = Math.min(a[k], a[k + CHUNK / 16]);
        }
        float min = Float.POSITIVE_INFINITY;
        for (int k = 0; k < CHUNK / 16; k++) {
            min = Math.min(min, a[k]);
        }
        return min;
    }

    /**
     * {@code lanes[l]} = the sum of {@code x[l], x[l + 16], …} below {@code n}, in that order: the
     * lanes as registers, so that each group of 16 slots is 16 independent additions.
     */
    private static void laneSums(float[] x, int n, float[] lanes) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
        float s8 = 0f, s9 = 0f, s10 = 0f, s11 = 0f, s12 = 0f, s13 = 0f, s14 = 0f, s15 = 0f;
        int full = n - n % SUM_LANES;
        for (int g = 0; g < full; g += SUM_LANES) {
            s0 += x[g];
            s1 += x[g + 1];
            s2 += x[g + 2];
            s3 += x[g + 3];
            s4 += x[g + 4];
            s5 += x[g + 5];
            s6 += x[g + 6];
            s7 += x[g + 7];
            s8 += x[g + 8];
            s9 += x[g + 9];
            s10 += x[g + 10];
            s11 += x[g + 11];
            s12 += x[g + 12];
            s13 += x[g + 13];
            s14 += x[g + 14];
            s15 += x[g + 15];
        }
        float[] s = {s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15};
        for (int k = full; k < n; k++) {
            s[k & (SUM_LANES - 1)] += x[k];
        }
        System.arraycopy(s, 0, lanes, 0, SUM_LANES);
    }

    @Override
    void chunk(ByteBuffer row, int at, int from, int n, float offset, Distance distance, float[] inverseNorms,
               boolean anyMasked, boolean maxima) {
        float[] x = d;
        row.asFloatBuffer().get(at / Float.BYTES, x, 0, n);
        toDistances(x, from, n, offset, distance, inverseNorms, inverse);
        float[] m = minimum;
        float[] e = weight;
        float[] ed = excess;
        float[] mask = masked;
        float[] kept = keep;
        for (int k = 0; k < n; k++) {
            float dk = x[k];
            float w = FastExp.expMinus(dk) * kept[k];
            m[k] = dk + mask[k];
            e[k] = w;
            ed[k] = w * dk;
        }
        float min = smallest(m, n);
        float max = Float.NaN;
        if (maxima) {
            for (int k = 0; k < n; k++) {
                m[k] = -x[k]; // negation is exact: the largest is minus the smallest
            }
            max = -smallest(m, n);
        }
        laneSums(e, n, laneWeight);
        laneSums(ed, n, laneExcess);
        chunkMin = min;
        chunkMax = max;
    }
}
