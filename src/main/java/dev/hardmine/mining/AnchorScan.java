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

    // Nearest negative and the distance range of the negatives.
    int nearestSlot;
    float nearestDist;
    float farthestDist;
    float nearestAboveBound; // smallest distance above the collection bound, +inf when none
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

    /**
     * One pass over the row: nearest negative, score range, candidates within the bound, and the
     * softmax(−d)-weighted negative distance of fast-reid's weighted loss. Its weights are kept
     * relative to the nearest distance seen so far and rescaled when a nearer one appears, so that
     * every weight is e^x with x ≤ 0 and the row is read once.
     */
    private void scanNegatives(float collectBound) {
        float[] r = row;
        float minDist = Float.POSITIVE_INFINITY;
        int minSlot = -1;
        float maxDist = Float.NEGATIVE_INFINITY;
        float minAbove = Float.POSITIVE_INFINITY;
        double weights = 0.0;    // Σ e^(minDist − d) over the negatives so far
        double weighted = 0.0;   // Σ e^(minDist − d) · d
        int count = 0;
        int[] cs = candSlot;
        for (int j = 0; j < size; j++) {
            float d = r[j];
            if (d == Float.POSITIVE_INFINITY) {
                continue;
            }
            if (d < minDist) {
                if (minSlot >= 0) {
                    double rescale = FastExp.expNonPositive(d - minDist);
                    weights *= rescale;
                    weighted *= rescale;
                }
                minDist = d;
                minSlot = j;
            } else if (d == minDist && memory.seq(j) < memory.seq(minSlot)) {
                minSlot = j;
            }
            float w = FastExp.expNonPositive(minDist - d);
            weights += w;
            weighted += (double) w * d;
            if (d > maxDist) {
                maxDist = d;
            }
            if (d <= collectBound) {
                if (count == cs.length) {
                    cs = java.util.Arrays.copyOf(cs, cs.length * 2);
                }
                cs[count++] = j;
            } else if (d < minAbove) {
                minAbove = d;
            }
        }
        candSlot = cs;
        candCount = count;
        nearestSlot = minSlot;
        nearestDist = minDist;
        farthestDist = maxDist;
        nearestAboveBound = minAbove;
        negativeWeightedMean = weighted / weights;
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
                dn = farthestDist;
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
