package dev.hardmine.mining;

import dev.hardmine.mining.internals.FastExp;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link RowPass} on the Vector API: the products read straight from the scores, each converted,
 * weighed and folded into the chunk's minimum, maximum and lane sums while in registers. The 16 sum
 * lanes are one 512-bit vector or two 256-bit ones (lanes 0–7 and 8–15), so the sums are the same on
 * either CPU. Loaded only when the JVM has the module (RowPass.create).
 */
final class VectorRowPass extends RowPass {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED.length() >= SUM_LANES
            ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    /** Two vectors per step of SUM_LANES slots (256-bit vectors). */
    private static final boolean TWO = S.length() * 2 == SUM_LANES;
    private static final int HALF = SUM_LANES / 2;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /** The species of the vectors the pass runs on, for the tests. */
    static VectorSpecies<Float> species() {
        return S;
    }

    /** The width of the vectors the pass runs on. */
    static int bits() {
        return S.vectorBitSize();
    }

    /** Whether the CPU's vectors are 256 or 512 bits wide, the two shapes this pass is written for. */
    static boolean supported() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        return lanes == SUM_LANES || lanes * 2 == SUM_LANES;
    }

    @Override
    void chunk(ByteBuffer row, int at, int from, int n, float offset, Distance distance, float[] inverseNorms,
               boolean anyMasked, boolean maxima) {
        // The extrema on the distances' bits: see atLeastZero.
        IntVector min0 = FloatVector.broadcast(S, Float.POSITIVE_INFINITY).reinterpretAsInts();
        IntVector max0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY).reinterpretAsInts();
        FloatVector w0 = FloatVector.zero(S);
        FloatVector wd0 = w0;
        IntVector min1 = min0;
        IntVector max1 = max0;
        FloatVector w1 = w0;
        FloatVector wd1 = w0;
        int steps = n - n % SUM_LANES;
        int base = at;
        if (distance == Distance.EUCLIDEAN && !anyMasked && !maxima) {
            // The common case in a loop of its own, without the branches of the general one.
            for (int j = 0; j < steps; j += SUM_LANES) {
                FloatVector d0 = atLeastZero(FloatVector.fromByteBuffer(S, row, base + j * Float.BYTES, NATIVE)
                        .add(offset)).sqrt();
                FloatVector e0 = expMinus(d0);
                min0 = min0.min(d0.reinterpretAsInts());
                w0 = w0.add(e0);
                wd0 = wd0.add(e0.mul(d0));
                if (TWO) {
                    FloatVector d1 = atLeastZero(FloatVector.fromByteBuffer(S, row, base + (j + HALF) * Float.BYTES,
                            NATIVE).add(offset)).sqrt();
                    FloatVector e1 = expMinus(d1);
                    min1 = min1.min(d1.reinterpretAsInts());
                    w1 = w1.add(e1);
                    wd1 = wd1.add(e1.mul(d1));
                }
            }
        } else {
            for (int j = 0; j < steps; j += SUM_LANES) {
                FloatVector d0 = toDistances(row, base, from, j, offset, distance, inverseNorms);
                FloatVector e0 = expMinus(d0);
                if (anyMasked) {
                    min0 = min0.min(d0.add(FloatVector.fromArray(S, masked, j)).reinterpretAsInts());
                    e0 = e0.mul(FloatVector.fromArray(S, keep, j));
                } else {
                    min0 = min0.min(d0.reinterpretAsInts());
                }
                max0 = max0.max(d0.reinterpretAsInts());
                w0 = w0.add(e0);
                wd0 = wd0.add(e0.mul(d0));
                if (TWO) {
                    FloatVector d1 = toDistances(row, base, from, j + HALF, offset, distance, inverseNorms);
                    FloatVector e1 = expMinus(d1);
                    if (anyMasked) {
                        min1 = min1.min(d1.add(FloatVector.fromArray(S, masked, j + HALF)).reinterpretAsInts());
                        e1 = e1.mul(FloatVector.fromArray(S, keep, j + HALF));
                    } else {
                        min1 = min1.min(d1.reinterpretAsInts());
                    }
                    max1 = max1.max(d1.reinterpretAsInts());
                    w1 = w1.add(e1);
                    wd1 = wd1.add(e1.mul(d1));
                }
            }
        }
        w0.intoArray(laneWeight, 0);
        wd0.intoArray(laneExcess, 0);
        int minBits = min0.reduceLanes(VectorOperators.MIN);
        int maxBits = max0.reduceLanes(VectorOperators.MAX);
        if (TWO) {
            w1.intoArray(laneWeight, HALF);
            wd1.intoArray(laneExcess, HALF);
            minBits = Math.min(minBits, min1.reduceLanes(VectorOperators.MIN));
            maxBits = Math.max(maxBits, max1.reduceLanes(VectorOperators.MAX));
        }
        float min = Float.intBitsToFloat(minBits);
        float max = maxima ? Float.intBitsToFloat(maxBits) : Float.NaN;
        // The chunk's last slots (a row's last chunk only), one at a time into their lanes.
        for (int k = steps; k < n; k++) {
            float d = distance(row.getFloat(at + k * Float.BYTES), distance, offset, inverseNorms, from + k);
            min = Math.min(min, d + masked[k]);
            max = Math.max(max, d);
            float e = FastExp.expMinus(d) * keep[k];
            laneWeight[k & (SUM_LANES - 1)] += e;
            laneExcess[k & (SUM_LANES - 1)] += e * d;
        }
        chunkMin = min;
        chunkMax = max;
    }

    /** The distances of slots {@code from + j …}, one vector: Distance.toDistance of their scores. */
    private static FloatVector toDistances(ByteBuffer row, int base, int from, int j, float offset, Distance distance,
                                           float[] inverseNorms) {
        FloatVector p = FloatVector.fromByteBuffer(S, row, base + j * Float.BYTES, NATIVE);
        switch (distance) {
            case EUCLIDEAN:
                return atLeastZero(p.add(offset)).sqrt();
            case SQUARED_EUCLIDEAN:
                return atLeastZero(p.add(offset));
            default:
                return atLeastZero(p.mul(FloatVector.fromArray(S, inverseNorms, from + j)).add(1f));
        }
    }

    /**
     * Math.max(x, 0f) lane by lane for any x but NaN, on its bits: a float whose sign bit is set (−0,
     * negatives, −∞) is a negative int and becomes +0, any other keeps its bits. One integer maximum,
     * where C2 builds the Vector API's MAX and MIN of floats, which follow Math.max's and Math.min's
     * rules for NaN and −0, out of six instructions each on AVX-512 (docs/PERFORMANCE.md). The scores
     * are never NaN (finite products, offsets and inverse norms: SampleBatch#checkScoresFinite,
     * Embeddings#inverseNorm), so the distances are +0, positive or +∞, which order as their bits do,
     * above −∞'s (a negative int): the pass takes their minima and maxima as ints too.
     */
    private static FloatVector atLeastZero(FloatVector x) {
        return x.reinterpretAsInts().max(0).reinterpretAsFloats();
    }

    /** FastExp.expMinus lane by lane: the same operations in the same order, so the same bits. */
    static FloatVector expMinus(FloatVector t) {
        FloatVector v = t.sub(2f).mul(0.25f);
        FloatVector q = FloatVector.broadcast(S, FastExp.M7).fma(v, FloatVector.broadcast(S, FastExp.M6));
        q = q.fma(v, FloatVector.broadcast(S, FastExp.M5));
        q = q.fma(v, FloatVector.broadcast(S, FastExp.M4));
        q = q.fma(v, FloatVector.broadcast(S, FastExp.M3));
        q = q.fma(v, FloatVector.broadcast(S, FastExp.M2));
        q = q.fma(v, FloatVector.broadcast(S, FastExp.M1));
        q = q.fma(v, FloatVector.broadcast(S, FastExp.M0));
        q = q.mul(q);
        return q.mul(q);
    }
}
