package dev.hardmine.mining;

import dev.hardmine.mining.internals.ExactSum;
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
 * <p>Invariants after {@link #scan}: {@code row} holds the anchor's scores with every same-label
 * entry (the anchor itself included) set to +∞, so that the finite entries are exactly N(a);
 * positives are listed in insertion order; {@code candSlot/candDist[0 … candCount)} hold every
 * negative whose distance is at most the collection bound, sorted by (distance, insertion order).
 * Every negative outside the candidates is easy for every positive of the anchor.
 */
final class AnchorScan {
    /** Terms of the softmax-weighted negative distance this far above the minimum weigh < e^-40. */
    private static final float WEIGHT_CUTOFF = 40f;

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

    // Nearest negative and the score range of the negatives.
    int nearestSlot;
    float nearestScore;
    float farthestScore;
    float nearestAboveBound; // smallest score above the collection bound, +inf when none

    // Candidates: negatives within the collection bound, sorted by (distance, insertion order).
    int candCount;
    int[] candSlot = new int[64];
    float[] candDist = new float[64];
    private long[] sortKeys = new long[64];
    private final ExactSum anWeights = new ExactSum();
    private final ExactSum anExcess = new ExactSum();
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
                : distance.scoreBound(TripletClass.semiHardBound(maxPositive, margin));
        scanNegatives(collectBound);
        sortCandidates();
        settleNearestTie();
        countAndScore(maxPositive);
        selector.select(this, triplets);
    }

    private void loadRow(FloatBuffer scores, int anchorIndex) {
        if (row.length < size) {
            row = new float[Math.max(size, row.length * 2)];
        }
        scores.get(anchorIndex * size, row, 0, size);
        if (distance == Distance.COSINE) {
            float[] inv = memory.inverseNorms();
            for (int j = 0; j < size; j++) {
                row[j] *= inv[j];
            }
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
                float d = distance.toDistance(row[slot]);
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

    /** One pass over the row: nearest negative, score range, candidates within the bound. */
    private void scanNegatives(float collectBound) {
        float[] r = row;
        float minScore = Float.POSITIVE_INFINITY;
        int minSlot = -1;
        float maxScore = Float.NEGATIVE_INFINITY;
        float minAbove = Float.POSITIVE_INFINITY;
        int count = 0;
        int[] cs = candSlot;
        for (int j = 0; j < size; j++) {
            float s = r[j];
            if (s == Float.POSITIVE_INFINITY) {
                continue;
            }
            if (s < minScore) {
                minScore = s;
                minSlot = j;
            } else if (s == minScore && memory.seq(j) < memory.seq(minSlot)) {
                minSlot = j;
            }
            if (s > maxScore) {
                maxScore = s;
            }
            if (s <= collectBound) {
                if (count == cs.length) {
                    cs = java.util.Arrays.copyOf(cs, cs.length * 2);
                }
                cs[count++] = j;
            } else if (s < minAbove) {
                minAbove = s;
            }
        }
        candSlot = cs;
        candCount = count;
        nearestSlot = minSlot;
        nearestScore = minScore;
        farthestScore = maxScore;
        nearestAboveBound = minAbove;
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
            float d = distance.toDistance(row[candSlot[c]]);
            sortKeys[c] = SortKeys.key(d, c);
        }
        java.util.Arrays.sort(sortKeys, 0, n);
        int[] slots = sortScratch;
        for (int c = 0; c < n; c++) {
            slots[c] = candSlot[SortKeys.index(sortKeys[c])];
        }
        for (int c = 0; c < n; c++) {
            candSlot[c] = slots[c];
            candDist[c] = distance.toDistance(row[slots[c]]);
        }
        SortKeys.orderTiesByInsertion(candSlot, candDist, n, memory);
    }

    /**
     * Makes {@code nearestSlot} the earliest-inserted negative at the nearest <em>distance</em>:
     * several scores can round to one distance, so the smallest score alone does not settle ties.
     */
    private void settleNearestTie() {
        if (candCount > 0) {
            // The nearest negative is a candidate, and so is every negative at its distance.
            nearestSlot = candSlot[0];
            return;
        }
        float tieBound = distance.scoreBound(distance.toDistance(nearestScore));
        for (int j = 0; j < size; j++) {
            if (row[j] <= tieBound && memory.seq(j) < memory.seq(nearestSlot)) {
                nearestSlot = j;
            }
        }
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
        float nearest = distance.toDistance(nearestScore);
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
                dn = distance.toDistance(nearestAboveBound);
            } else {
                dn = distance.toDistance(farthestScore);
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

        // The negatives come in slot order, which depends on the memory's history; exact sums keep
        // the loss the same however the memory was built (e.g. restored), so replays agree byte for
        // byte. Terms relative to the nearest negative lie in [0, 1]: w = e^-x, w·x with x = d − nearest.
        float[] r = row;
        float pruneAbove = distance.scoreBound(nearest + WEIGHT_CUTOFF);
        anWeights.clear();
        anExcess.clear();
        for (int j = 0; j < size; j++) {
            float s = r[j];
            if (s <= pruneAbove) {
                double excess = (double) distance.toDistance(s) - nearest;
                double w = Math.exp(-excess);
                anWeights.add(w);
                anExcess.add(w * excess);
            }
        }
        double meanAn = nearest + anExcess.value() / anWeights.value();
        lossWeighted = Math.max(0.0, meanAp - meanAn + margin);
    }

    MinedTriplet triplet(int positiveSlot, float dAp, int negativeSlot, float dAn) {
        return new MinedTriplet(anchorId, memory.sampleId(positiveSlot), memory.sampleId(negativeSlot),
                anchorLabel, memory.labelName(memory.labelId(negativeSlot)), dAp, dAn,
                memory.step(positiveSlot), memory.step(negativeSlot));
    }
}
