package dev.hardmine.mining;

import dev.hardmine.mining.internals.FastExp;
import dev.hardmine.mining.internals.IntList;
import dev.hardmine.mining.internals.SortKeys;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The work for one anchor against the memory, on one row of the score matrix. One instance per
 * thread, reused across anchors and batches: its arrays grow to the largest memory seen and are
 * never copied per anchor.
 *
 * <p>Invariants after {@link #scan}: {@code row} holds the anchor's distances to every memory
 * slot, with every same-label entry (the anchor itself included) set to +∞, so that the finite
 * entries are exactly N(a);
 * positives are listed in insertion order; {@code candSlot/candDist[0 … candCount)} hold every
 * negative whose distance is at most the collection bound, sorted by (distance, insertion order).
 * Every negative outside the candidates is easy for every positive of the anchor.
 */
final class AnchorScan {
    float[] row = new float[0];
    int size;

    MemoryBank memory;
    MiningSettings settings;
    Distance distance;
    float margin;
    String batchId;
    String anchorId;
    String anchorLabel;
    int anchorIndex;

    // Positives P(a), insertion order.
    int positiveCount;
    int[] posSlot = new int[16];
    float[] posDist = new float[16];
    int hardestPositive;    // index into posSlot, -1 when none
    int negativeCount;

    // Nearest negative (ties to the earliest inserted), and the nearest beyond the collection bound.
    int nearestSlot;
    float nearestDist;
    float nearestAboveBound; // +inf when none
    double negativeWeightedMean; // Σ softmax(−d)·d over N(a)

    // Candidates: negatives within the collection bound, sorted by (distance, insertion order).
    int candCount;
    int[] candSlot = new int[64];
    float[] candDist = new float[64];
    private long[] sortKeys = new long[64];
    private int[] sortScratch = new int[64];

    // Contributions to the batch statistics.
    long hard;
    long semiHard;
    long easy;
    double lossBatchHard;
    double lossWeighted;
    double semiHardLossSum;
    long positivePairs;

    final List<MinedTriplet> triplets = new ArrayList<>();

    boolean valid() {
        return positiveCount > 0 && negativeCount > 0;
    }

    void scan(MemoryBank memory, FloatBuffer scores, String batchId, int anchorIndex, String anchorId,
              String anchorLabel, MiningSettings settings, TripletSelector selector) {
        this.memory = memory;
        this.batchId = batchId;
        this.settings = settings;
        this.distance = settings.distance();
        this.margin = settings.margin();
        this.anchorId = anchorId;
        this.anchorLabel = anchorLabel;
        this.anchorIndex = anchorIndex;
        this.size = memory.size();
        triplets.clear();
        hard = semiHard = easy = 0;
        lossBatchHard = lossWeighted = semiHardLossSum = 0;
        positivePairs = 0;
        candCount = 0;

        loadRow(scores, anchorIndex);
        collectPositives();
        positivePairs = positiveCount;
        if (negativeCount == 0) {
            // TF-Addons semantics with no negative at all: d_n = 0 for every positive pair.
            for (int k = 0; k < positiveCount; k++) {
                semiHardLossSum += Math.max(0.0, (double) posDist[k] + margin);
            }
            return;
        }
        if (positiveCount == 0) {
            return;
        }
        float maxPositive = posDist[hardestPositive];
        float collectBound = selector.collectsAllNegatives()
                ? Float.MAX_VALUE
                : TripletClass.semiHardBound(maxPositive, margin);
        scanNegatives(collectBound);
        sortCandidates();
        countAndScore(maxPositive);
        selector.select(this, triplets);
    }

    private void loadRow(FloatBuffer scores, int anchorIndex) {
        if (row.length < size) {
            row = new float[Math.max(size, row.length * 2)];
        }
        float[] r = row;
        scores.get(anchorIndex * size, r, 0, size);
        // Scores to distances, exactly as Distance.toDistance does, in loops the JIT vectorises.
        switch (distance) {
            case EUCLIDEAN:
                for (int j = 0; j < size; j++) {
                    r[j] = (float) Math.sqrt(Math.max(r[j], 0f));
                }
                break;
            case SQUARED_EUCLIDEAN:
                for (int j = 0; j < size; j++) {
                    r[j] = Math.max(r[j], 0f);
                }
                break;
            default:
                float[] inv = memory.inverseNorms();
                for (int j = 0; j < size; j++) {
                    r[j] = Math.max(1f + r[j] * inv[j], 0f);
                }
                break;
        }
    }

    private void collectPositives() {
        int labelId = memory.labelIdOf(anchorLabel);
        IntList same = labelId >= 0 ? memory.slotsOfLabel(labelId) : null;
        int sameCount = same == null ? 0 : same.size();
        int own = memory.slotOf(anchorId);
        if (posSlot.length < sameCount) {
            posSlot = new int[sameCount * 2];
            posDist = new float[sameCount * 2];
        }
        positiveCount = 0;
        hardestPositive = -1;
        for (int i = 0; i < sameCount; i++) {
            int slot = same.get(i);
            if (slot != own) {
                float d = row[slot];
                posSlot[positiveCount] = slot;
                posDist[positiveCount] = d;
                // Strictly greater: on ties the earlier-inserted positive stays.
                if (hardestPositive < 0 || d > posDist[hardestPositive]) {
                    hardestPositive = positiveCount;
                }
                positiveCount++;
            }
            row[slot] = Float.POSITIVE_INFINITY;
        }
        negativeCount = size - sameCount;
    }

    /** Fixed-point unit of the weighted sums: terms in [0, 1] become multiples of 2^-40. */
    private static final float UNIT = 0x1p40f;
    /** Terms per block, so that a block's sum of units stays below 2^63. */
    private static final int BLOCK = 1 << 22;

    /**
     * Two passes over the row. The first finds the nearest negative distance. The second finds
     * the nearest negative's slot (ties to the earliest inserted), the candidates within the
     * collection bound, the nearest distance beyond it, and fast-reid's softmax(−d)-weighted mean
     * of the negative distances. Its terms w = e^(min − d) and w·(d − min) lie in [0, 1] and are
     * added as integers (multiples of 2^-40), so the sum is the same in whatever order the memory
     * holds its entries — a memory rebuilt from its persisted entries gives the same loss, bit
     * for bit, as the memory it was saved from.
     */
    private void scanNegatives(float collectBound) {
        float[] r = row;
        int n = size;
        float min = Float.POSITIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            min = Math.min(min, r[j]);
        }
        int minSlot = -1;
        float minAbove = Float.POSITIVE_INFINITY;
        double weights = 0;
        double excess = 0;
        int count = 0;
        int[] cs = candSlot;
        for (int start = 0; start < n; start += BLOCK) {
            int end = Math.min(n, start + BLOCK);
            long weightUnits = 0;
            long excessUnits = 0;
            for (int j = start; j < end; j++) {
                float d = r[j];
                if (d == Float.POSITIVE_INFINITY) {
                    continue;
                }
                if (d == min && (minSlot < 0 || memory.seq(j) < memory.seq(minSlot))) {
                    minSlot = j;
                }
                float x = d - min;
                float w = FastExp.expNonPositive(-x);
                weightUnits += (long) (w * UNIT);
                excessUnits += (long) (w * x * UNIT);
                if (d <= collectBound) {
                    if (count == cs.length) {
                        cs = java.util.Arrays.copyOf(cs, cs.length * 2);
                    }
                    cs[count++] = j;
                } else if (d < minAbove) {
                    minAbove = d;
                }
            }
            weights += weightUnits;
            excess += excessUnits;
        }
        candSlot = cs;
        candCount = count;
        nearestSlot = minSlot;
        nearestDist = min;
        nearestAboveBound = minAbove;
        negativeWeightedMean = min + excess / weights;
    }

    /** The farthest negative's distance; needed only when some positive has no negative beyond it. */
    private float farthestNegative() {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < size; j++) {
            float d = row[j];
            if (d != Float.POSITIVE_INFINITY && d > max) {
                max = d;
            }
        }
        return max;
    }

    private void sortCandidates() {
        int n = candCount;
        if (candDist.length < n) {
            candDist = new float[candSlot.length];
        }
        if (sortKeys.length < n) {
            sortKeys = new long[candSlot.length];
            sortScratch = new int[candSlot.length];
        }
        for (int c = 0; c < n; c++) {
            sortKeys[c] = SortKeys.key(row[candSlot[c]], c);
        }
        java.util.Arrays.sort(sortKeys, 0, n);
        int[] slots = sortScratch;
        for (int c = 0; c < n; c++) {
            slots[c] = candSlot[SortKeys.index(sortKeys[c])];
        }
        for (int c = 0; c < n; c++) {
            candSlot[c] = slots[c];
            candDist[c] = row[slots[c]];
        }
        SortKeys.orderTiesByInsertion(candSlot, candDist, n, memory);
    }

    /** Number of candidates with distance ≤ d (candidates are sorted). */
    int countAtMost(float d) {
        int lo = 0;
        int hi = candCount;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (candDist[mid] <= d) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Hardness counts, the three losses, by threshold search over the sorted candidates. */
    private void countAndScore(float maxPositive) {
        float nearest = nearestDist;
        lossBatchHard = Math.max(0.0, (double) maxPositive - nearest + margin);

        for (int k = 0; k < positiveCount; k++) {
            float dAp = posDist[k];
            int atMostAp = countAtMost(dAp);
            int atMostSemi = countAtMost(TripletClass.semiHardBound(dAp, margin));
            hard += atMostAp;
            semiHard += atMostSemi - atMostAp;
            easy += negativeCount - atMostSemi;

            float dn;
            if (atMostAp < candCount) {
                dn = candDist[atMostAp];
            } else if (nearestAboveBound != Float.POSITIVE_INFINITY) {
                dn = nearestAboveBound;
            } else {
                dn = farthestNegative();
            }
            semiHardLossSum += Math.max(0.0, (double) dAp - dn + margin);
        }

        // fast-reid weighted_example_mining: softmax(d) over P(a) ∪ {a}, softmax(-d) over N(a).
        double apMax = Math.max(0.0, maxPositive);
        double apWeights = Math.exp(-apMax); // the anchor itself, at distance 0
        double apWeighted = 0.0;
        for (int k = 0; k < positiveCount; k++) {
            double w = Math.exp(posDist[k] - apMax);
            apWeights += w;
            apWeighted += w * posDist[k];
        }
        double meanAp = apWeighted / apWeights;

        lossWeighted = Math.max(0.0, meanAp - negativeWeightedMean + margin);
    }

    MinedTriplet triplet(int positiveSlot, float dAp, int negativeSlot, float dAn) {
        return new MinedTriplet(anchorId, memory.sampleId(positiveSlot), memory.sampleId(negativeSlot),
                anchorLabel, memory.labelName(memory.labelId(negativeSlot)), dAp, dAn,
                memory.step(positiveSlot), memory.step(negativeSlot));
    }
}
