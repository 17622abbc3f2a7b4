package dev.hardmine.mining;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Distance-weighted sampling (Wu et al. 2017, "Sampling Matters in Deep Embedding Learning";
 * pytorch-metric-learning DistanceWeightedMiner): for each positive pair (a, p), in insertion
 * order, one negative drawn from N(a) with probability ∝ 1/q(d), where
 * q(d) ∝ d^(n−2) (1 − d²/4)^((n−3)/2) is the density of distances between points uniform on the
 * unit sphere in n = dim dimensions. Distances are clamped below at 0.5, and negatives at 1.4 or
 * farther get weight 0 (their loss is zero at usual margins), as in the paper. The weights assume
 * unit-norm embeddings (use {@code normalize} with euclidean distance).
 *
 * <p>The generator is seeded from (seed, batch id, anchor index), so a replay draws the same
 * negatives. A positive whose anchor has no negative of non-zero weight yields no triplet.
 * {@code maxPerAnchor} > 0 caps the triplets per anchor.
 */
final class DistanceWeightedStrategy implements TripletSelector {
    static final float CUTOFF = 0.5f;
    static final float NONZERO_LOSS_CUTOFF = 1.4f;

    private final long seed;
    private final int maxPerAnchor;

    DistanceWeightedStrategy(long seed, int maxPerAnchor) {
        this.seed = seed;
        this.maxPerAnchor = maxPerAnchor;
    }

    @Override
    public void select(ScannedAnchor anchor, List<MinedTriplet> out) {
        MemoryBank memory = anchor.memory();
        int n = memory.dim();
        int scanned = anchor.slots();
        Scratch scratch = anchor.scratch(Scratch.class, Scratch::new);
        if (scratch.logW.length < scanned) {
            scratch.logW = new double[scanned];
            scratch.slots = new int[scanned];
            scratch.keys = new long[scanned];
        }
        double[] logW = scratch.logW;
        int[] slots = scratch.slots;
        int count = 0;
        double maxLog = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < scanned; j++) {
            float dist = anchor.distance(j);
            if (dist < NONZERO_LOSS_CUTOFF) {
                double d = Math.max(CUTOFF, dist);
                double lw = (2.0 - n) * Math.log(d) - ((n - 3.0) / 2.0) * Math.log(1.0 - 0.25 * d * d);
                slots[count] = j;
                logW[count++] = lw;
                maxLog = Math.max(maxLog, lw);
            }
        }
        if (count == 0) {
            return;
        }
        // Slot order depends on the memory's history; draw over the negatives in insertion order
        // so that the same memory content gives the same draws however it was built.
        orderByInsertion(memory, slots, logW, scratch.keys, count);
        double total = 0.0;
        for (int i = 0; i < count; i++) {
            total += Math.exp(logW[i] - maxLog);
            logW[i] = total; // cumulative weight
        }
        SplittableRandom random = new SplittableRandom(mix(seed, anchor));
        int positives = anchor.positiveCount();
        int take = maxPerAnchor > 0 ? Math.min(maxPerAnchor, positives) : positives;
        for (int k = 0; k < take; k++) {
            double u = random.nextDouble() * total;
            int lo = 0;
            int hi = count - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (logW[mid] > u) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            int slot = slots[lo];
            out.add(anchor.triplet(anchor.positiveSlot(k), anchor.positiveDistance(k), slot, anchor.distance(slot)));
        }
    }

    private static long mix(long seed, ScannedAnchor anchor) {
        long h = seed * 0x9E3779B97F4A7C15L;
        h ^= anchor.batchId().hashCode() * 0xC2B2AE3D27D4EB4FL;
        h ^= (long) anchor.anchorId().hashCode() * 0x27D4EB2F165667C5L;
        h ^= anchor.anchorIndex() * 0x165667B19E3779F9L;
        return h;
    }

    /** Per slot of the memory: candidates' log weights (then cumulative weights), slots, sort keys. */
    private static final class Scratch {
        double[] logW = new double[0];
        int[] slots = new int[0];
        long[] keys = new long[0];
    }

    /** Sorts {@code slots[0 … count)} (and their log weights) by insertion number, with {@code keys} as scratch. */
    private static void orderByInsertion(MemoryBank memory, int[] slots, double[] logW, long[] keys, int count) {
        long base = memory.oldestSeq();
        int[] order = new int[count];
        if (memory.nextSeq() - base < Integer.MAX_VALUE) {
            for (int i = 0; i < count; i++) {
                keys[i] = ((memory.seq(slots[i]) - base) << 32) | i;
            }
            java.util.Arrays.sort(keys, 0, count);
            for (int i = 0; i < count; i++) {
                order[i] = (int) keys[i];
            }
        } else {
            // An entry has outlived 2^31 insertions: rare enough for a boxed sort.
            Integer[] boxed = new Integer[count];
            for (int i = 0; i < count; i++) {
                boxed[i] = i;
            }
            java.util.Arrays.sort(boxed, java.util.Comparator.comparingLong(i -> memory.seq(slots[i])));
            for (int i = 0; i < count; i++) {
                order[i] = boxed[i];
            }
        }
        int[] sortedSlots = new int[count];
        double[] sortedLogW = new double[count];
        for (int i = 0; i < count; i++) {
            int from = order[i];
            sortedSlots[i] = slots[from];
            sortedLogW[i] = logW[from];
        }
        System.arraycopy(sortedSlots, 0, slots, 0, count);
        System.arraycopy(sortedLogW, 0, logW, 0, count);
    }
}
