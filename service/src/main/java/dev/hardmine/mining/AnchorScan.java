package dev.hardmine.mining;

import dev.hardmine.mining.internals.FastExp;
import dev.hardmine.mining.internals.IntList;
import dev.hardmine.mining.internals.SharedLoop;
import dev.hardmine.mining.internals.SortKeys;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * The work for one anchor against the memory, on one row of the score matrix. One instance per
 * loop worker of a JobMiner (SharedLoop), reused across anchors and batches: its arrays grow to the
 * largest memory seen and are never copied per anchor.
 *
 * <p>The row was read once before the scan, by a {@link RowPass} over each tile of products as
 * soon as it was computed ({@link RowSummaries}): per chunk of {@link RowPass#CHUNK} slots the
 * smallest distance outside the anchor's identity and the largest distance, and the softmax
 * weight sums of fast-reid's weighted loss. No distance is kept: the few the scan needs next (the
 * positives, the chunks that hold the nearest negative or the candidates) are computed again from
 * the products, bit for bit the same ({@link RowPass#distance}); the passes that read every
 * distance (a row of many candidates, the weighted mean of a row beyond FastExp.expMinus's range,
 * memory sampling beyond the candidates) and selectors that do ({@link #distance}) have the whole
 * row converted once ({@link #keepRow}). Where the scores hold only what such a scan reads
 * (ScoreMatrix.Scores#keepsEveryProduct), the candidates are found chunk by chunk however many
 * chunks hold some, and a scan that would read the whole row fails instead (JobMiner never asks it).
 *
 * <p>Invariants after {@link #scan}: {@link #at} is the anchor's distance to every memory slot,
 * +∞ at every same-label entry (the anchor itself included), so that the finite entries are
 * exactly N(a); positives are listed in insertion order; {@code candSlot/candDist[0 … candCount)}
 * hold every negative whose distance is at most the collection bound, sorted by (distance,
 * insertion order). Every negative outside the candidates is easy for every positive of the
 * anchor. The selector reads all this through {@link ScannedAnchor}, never the arrays themselves.
 * Results depend on the row alone, never on scheduling or on which RowPass runs.
 */
final class AnchorScan implements ScannedAnchor {
    /** Slots per chunk of a kept row, and lanes of weightedMean's sums; a power of two. */
    static final int LANES = RowPass.CHUNK;
    private static final int LANE_BITS = Integer.numberOfTrailingZeros(LANES);
    /**
     * Up to one chunk in this many to search one by one, each distance computed from its product
     * (about 3 ns a slot); beyond, converting the whole row once (keepRow, about 0.3 ns a slot) and
     * one pass over all of it (about 1 ns a slot) are cheaper.
     */
    private static final int FEW_CHUNKS = 2;
    /**
     * Chunks whose weights a lane of weightedMean sums in float before adding them into a double:
     * at most 32 terms of at most 1, so each block's relative rounding error stays under 32·2⁻²⁴ ≈ 2e-6.
     */
    private static final int FLOAT_BLOCK = 32;

    // The anchor's row of scores, what its products lack (Scores.offset), and what the RowPass left of it.
    private ScoreMatrix.Scores scores;
    private RowSummaries summaries;
    private final double[] foldLanes = new double[2 * RowPass.SUM_LANES];
    private final double[] foldSums = new double[2];
    private float offset;
    // The anchor's distances, chunk c holding slots c·LANES … c·LANES + LANES, once keepRow has
    // filled them (kept); until then at() computes a distance from the scores.
    private float[][] distances = new float[0][];
    private boolean kept;
    private int size;
    private int chunkCount;

    private MemoryBank memory;
    private Distance distance;
    private float margin;
    private String batchId;
    private String anchorId;
    private String anchorLabel;
    private int anchorLabelId;
    private int anchorIndex;

    // Positives P(a), insertion order.
    private int positiveCount;
    private int[] posSlot = new int[16];
    private float[] posDist = new float[16];
    private int hardestPositive;    // index into posSlot, -1 when none
    private int negativeCount;

    // Nearest negative (+inf and -1 when every negative is at +inf).
    private int nearestSlot;
    private float nearestDist;
    private float nearestAboveBound; // smallest distance above the collection bound, +inf when none
    private double negativeWeightedMean; // Σ softmax(−d)·d over N(a)
    // The same from the RowPass, with the weights e^(−d): valid when the whole row lies in
    // FastExp.expMinus's range, NaN otherwise (see loadRow).
    private double rowWeightedMean;

    // Slots that take no part in weightedMean's vectorised weights: the same-label ones (the first
    // sameCount, sorted), then those beyond FastExp.expMinus's range.
    private int excludedCount;
    private int sameCount;
    private int[] excluded = new int[16];
    private double beyondWeights; // Σ w and Σ w·(d − nearest) over the slots beyond expMinus's range
    private double beyondExcess;

    // Scratch of weightedMean, one chunk long, and its per-lane sums of the weights and of the
    // weighted excesses over the nearest negative: float within a block of chunks, then double
    // across blocks.
    private final float[] chunkWeight = new float[LANES];
    private final float[] chunkExcess = new float[LANES];
    private final float[] laneWeight = new float[LANES];
    private final float[] laneExcess = new float[LANES];
    private final double[] laneWeightTotal = new double[LANES];
    private final double[] laneExcessTotal = new double[LANES];

    // Candidates: negatives within the collection bound, sorted by (distance, insertion order).
    private int candCount;
    private int[] candSlot = new int[64];
    private float[] candDist = new float[64];
    private long[] sortKeys = new long[64];
    private int[] sortScratch = new int[64];

    private Object selectorScratch; // see ScannedAnchor.scratch

    // Contributions to the batch statistics.
    long hard;
    long semiHard;
    long easy;
    double lossBatchHard;
    double lossWeighted;
    double semiHardLossSum;
    long positivePairs;

    final List<MinedTriplet> triplets = new ArrayList<>();

    // Memory samples to send back (MemorySampling): nearest negatives, farthest positives, by rank.
    int sampledNegativeCount;
    int[] sampledNegatives = new int[8];
    int sampledPositiveCount;
    int[] sampledPositives = new int[8];
    private float[] sampledDist = new float[8];

    /** One scan per worker of a SharedLoop, each to be used by its worker only (SharedLoop.Body). */
    static AnchorScan[] perWorker() {
        AnchorScan[] scans = new AnchorScan[SharedLoop.workers()];
        Arrays.setAll(scans, worker -> new AnchorScan());
        return scans;
    }

    boolean valid() {
        return positiveCount > 0 && negativeCount > 0;
    }

    /**
     * Scans anchor {@code anchorIndex} of the batch, whose row {@code summaries} holds passed in full
     * (its identity set, every chunk passed: JobMiner's tiles).
     */
    void scan(MemoryBank memory, ScoreMatrix.Scores scores, RowSummaries summaries, String batchId, int anchorIndex,
              String anchorId, String anchorLabel, MiningSettings settings, TripletSelector selector) {
        this.memory = memory;
        this.batchId = batchId;
        this.distance = settings.distance();
        this.margin = settings.margin();
        this.anchorId = anchorId;
        this.anchorLabel = anchorLabel;
        this.anchorIndex = anchorIndex;
        this.size = memory.size();
        this.chunkCount = (size + LANES - 1) / LANES;
        this.scores = scores;
        this.summaries = summaries;
        this.offset = scores.offset(anchorIndex);
        this.kept = false;
        triplets.clear();
        sampledNegativeCount = 0;
        sampledPositiveCount = 0;
        hard = semiHard = easy = 0;
        lossBatchHard = lossWeighted = semiHardLossSum = 0;
        positivePairs = 0;
        candCount = 0;

        IntList same = sameLabelSlots();
        loadRow();
        collectPositives(same);
        positivePairs = positiveCount;
        scanTriplets(selector);
        sampleMemory(settings.memorySampling());
    }

    private void scanTriplets(TripletSelector selector) {
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

    /**
     * The slots of the anchor's identity (the anchor itself included) into {@code excluded}, sorted as
     * the summaries hold them; returns them in insertion order.
     */
    private IntList sameLabelSlots() {
        int labelId = memory.labelIdOf(anchorLabel);
        anchorLabelId = labelId;
        IntList same = labelId >= 0 ? memory.slotsOfLabel(labelId) : null;
        int from = summaries.excludedFrom(anchorIndex);
        int sameCount = summaries.excludedTo(anchorIndex) - from;
        this.sameCount = sameCount;
        if (excluded.length < sameCount) {
            excluded = new int[sameCount * 2];
        }
        System.arraycopy(summaries.excluded(), from, excluded, 0, sameCount);
        excludedCount = sameCount;
        return same;
    }

    /**
     * What the RowPass left of the anchor's row: chunk minima and maxima, and the weighted negative
     * distance with the weights e^(−d), which is fast-reid's without a second pass over the row
     * whenever every distance of the row lies in FastExp.expMinus's range, as all do for unit-norm
     * embeddings under the euclidean and cosine distances (squared euclidean: unless two are
     * antipodal). Otherwise (far-apart or unnormalised embeddings: the weights need the nearest
     * negative as reference) {@code rowWeightedMean} is NaN and weightedMean takes the second pass.
     * Which one applies depends on the row alone (the bound from the norms only spares looking).
     */
    private void loadRow() {
        boolean bounded = scores.withinExpRange();
        summaries.fold(anchorIndex, foldLanes, foldSums);
        boolean inRange = bounded || largestDistance() < FastExp.EXP_MINUS_RANGE;
        rowWeightedMean = inRange ? foldSums[1] / foldSums[0] : Double.NaN;
    }

    /**
     * Fills {@code distances} with the whole row, same-label entries at +∞, for the passes that
     * read every distance; once per anchor, before weightedMean adds to the excluded slots.
     */
    private void keepRow() {
        if (kept) {
            return;
        }
        if (!scores.keepsEveryProduct()) {
            throw new IllegalStateException("the scores hold only the products of the positives, the nearest negative "
                    + "and the candidates, not the whole row (JobMiner.Keeping)");
        }
        if (distances.length < chunkCount) {
            growDistances(chunkCount);
        }
        for (int c = 0; c < chunkCount; c++) {
            int from = c * LANES;
            int n = Math.min(LANES, size - from);
            scores.read(anchorIndex, from, distances[c], n);
            // chunkWeight is free: weightedMean fills it only after keepRow.
            RowPass.toDistances(distances[c], from, n, offset, distance, memory.inverseNorms(), chunkWeight);
        }
        for (int i = 0; i < sameCount; i++) {
            int slot = excluded[i];
            distances[slot >>> LANE_BITS][slot & (LANES - 1)] = Float.POSITIVE_INFINITY;
        }
        kept = true;
    }

    /** The distance to {@code slot}, +∞ for the anchor's label: from its chunk once kept, else from the scores. */
    private float at(int slot) {
        if (kept) {
            return distances[slot >>> LANE_BITS][slot & (LANES - 1)];
        }
        return memory.labelId(slot) == anchorLabelId ? Float.POSITIVE_INFINITY : distanceTo(slot);
    }

    /** The distance to {@code slot} from its product, as the RowPass computed it. */
    private float distanceTo(int slot) {
        return RowPass.distance(scores.product(anchorIndex, slot), distance, offset, memory.inverseNorms(), slot);
    }

    private void growDistances(int chunkCount) {
        int had = distances.length;
        distances = Arrays.copyOf(distances, Math.max(chunkCount, had * 2));
        for (int c = had; c < distances.length; c++) {
            distances[c] = new float[LANES];
        }
    }

    private float largestDistance() {
        float largest = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < chunkCount; c++) {
            largest = Math.max(largest, summaries.chunkMax(anchorIndex, c));
        }
        return largest;
    }

    private void collectPositives(IntList same) {
        int sameCount = excludedCount;
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
                float d = distanceTo(slot);
                posSlot[positiveCount] = slot;
                posDist[positiveCount] = d;
                // Strictly greater: on ties the earlier-inserted positive stays.
                if (hardestPositive < 0 || d > posDist[hardestPositive]) {
                    hardestPositive = positiveCount;
                }
                positiveCount++;
            }
        }
        negativeCount = size - sameCount;
    }

    /**
     * The negatives' part of the scan: nearest negative (ties to the earlier inserted), candidates
     * within {@code collectBound} and the nearest distance above it, and the softmax(−d)-weighted
     * negative distance of fast-reid's weighted loss: loadRow's when it has it, otherwise from
     * weightedMean's pass with weights e^(nearest − d) ∈ (0, 1].
     */
    private void scanNegatives(float collectBound) {
        float nearest = chunkMinima();
        nearestDist = nearest;
        nearestSlot = -1;
        if (nearest == Float.POSITIVE_INFINITY) {
            // No finite negative: nothing to collect, nothing to weigh (the mean is 0/0).
            candCount = 0;
            nearestAboveBound = Float.POSITIVE_INFINITY;
            negativeWeightedMean = Double.NaN;
            return;
        }
        for (int c = 0; c < chunkCount; c++) {
            if (summaries.chunkMin(anchorIndex, c) == nearest) {
                nearestInChunk(c, nearest);
            }
        }
        if (nearestSlot < 0) {
            // Only if the products read are not those the pass saw (JobMiner.Keeping).
            throw new IllegalStateException("no slot of anchor " + anchorIndex + "'s row lies at its nearest distance "
                    + nearest);
        }
        collectCandidates(collectBound, nearest);
        negativeWeightedMean = Double.isNaN(rowWeightedMean) ? weightedMean(nearest) : rowWeightedMean;
    }

    /** Folds the chunk minima of the row (same-label entries left out) into the nearest distance. */
    private float chunkMinima() {
        float nearest = Float.POSITIVE_INFINITY;
        for (int c = 0; c < chunkCount; c++) {
            nearest = Math.min(nearest, summaries.chunkMin(anchorIndex, c));
        }
        return nearest;
    }

    private void nearestInChunk(int c, float nearest) {
        int end = Math.min(size, (c + 1) * LANES);
        for (int j = c * LANES; j < end; j++) {
            if (at(j) == nearest && (nearestSlot < 0 || memory.seq(j) < memory.seq(nearestSlot))) {
                nearestSlot = j;
            }
        }
    }

    /**
     * Candidates (d ≤ bound) in any order — sortCandidates orders them — and the nearest distance
     * above the bound. Only the chunks whose minimum is within the bound are visited, or the whole
     * row, kept, when that is many of them (e.g. the easy strategy collects everything).
     */
    private void collectCandidates(float bound, float nearest) {
        candCount = 0;
        if (nearest > bound) {
            nearestAboveBound = nearest;
            return;
        }
        float minAbove = Float.POSITIVE_INFINITY;
        int chunksWithin = 0;
        for (int c = 0; c < chunkCount; c++) {
            float chunkMin = summaries.chunkMin(anchorIndex, c);
            if (chunkMin <= bound) {
                chunksWithin++;
            } else {
                minAbove = Math.min(minAbove, chunkMin);
            }
        }
        if (chunksWithin * FEW_CHUNKS > chunkCount && scores.keepsEveryProduct()) {
            keepRow();
            minAbove = collectRange(0, size, 1, bound, Float.POSITIVE_INFINITY);
        } else {
            for (int c = 0; c < chunkCount; c++) {
                if (summaries.chunkMin(anchorIndex, c) <= bound) {
                    minAbove = collectRange(c * LANES, Math.min(size, (c + 1) * LANES), 1, bound, minAbove);
                }
            }
        }
        nearestAboveBound = minAbove;
    }

    /** Collects slots from, from + step, … below end within the bound; returns the updated minimum above it. */
    private float collectRange(int from, int end, int step, float bound, float minAbove) {
        int[] cs = candSlot;
        int count = candCount;
        for (int j = from; j < end; j += step) {
            float d = at(j);
            if (d <= bound) {
                if (count == cs.length) {
                    cs = Arrays.copyOf(cs, cs.length * 2);
                }
                cs[count++] = j;
            } else if (d < minAbove) {
                minAbove = d;
            }
        }
        candSlot = cs;
        candCount = count;
        return minAbove;
    }

    /**
     * nearest + Σ w·(d − nearest) / Σ w over the negatives, w = e^(nearest − d), over the kept row.
     * The weights whose excess t = d − nearest lies in FastExp.expMinus's range come from a
     * vectorised pass, the others from the scalar FastExp.expNonPositive: those are found by chunk
     * from the chunk maxima, and there are none for unit-norm embeddings, whose euclidean and
     * cosine distances are at most 2.
     */
    private double weightedMean(float nearest) {
        keepRow(); // before exclude() adds to the excluded slots
        beyondWeights = 0.0;
        beyondExcess = 0.0;
        int chunksBeyond = 0;
        for (int c = 0; c < chunkCount; c++) {
            if (!(summaries.chunkMax(anchorIndex, c) - nearest < FastExp.EXP_MINUS_RANGE)) {
                chunksBeyond++;
            }
        }
        if (chunksBeyond * FEW_CHUNKS > chunkCount) {
            weighBeyondRange(0, size, nearest);
        } else if (chunksBeyond > 0) {
            for (int c = 0; c < chunkCount; c++) {
                if (!(summaries.chunkMax(anchorIndex, c) - nearest < FastExp.EXP_MINUS_RANGE)) {
                    weighBeyondRange(c * LANES, Math.min(size, (c + 1) * LANES), nearest);
                }
            }
        }
        Arrays.sort(excluded, 0, excludedCount);

        float[] w = chunkWeight;
        float[] wt = chunkExcess;
        clearSums();
        int next = 0;
        int chunks = 0;
        for (int from = 0; from < size; from += LANES) {
            int n = Math.min(LANES, size - from);
            float[] c = distances[from >>> LANE_BITS];
            for (int k = 0; k < n; k++) {
                float t = c[k] - nearest;
                float e = FastExp.expMinus(t);
                w[k] = e;
                wt[k] = e * t;
            }
            // Excluded slots computed garbage (their t is +inf or out of range): drop it. A slot
            // listed twice (same-label and beyond range) is dropped twice, harmlessly.
            for (; next < excludedCount && excluded[next] < from + n; next++) {
                w[excluded[next] - from] = 0f;
                wt[excluded[next] - from] = 0f;
            }
            add(w, n, laneWeight);
            add(wt, n, laneExcess);
            if (++chunks % FLOAT_BLOCK == 0) {
                flushSums();
            }
        }
        if (chunks % FLOAT_BLOCK != 0) { // the last block's sums, unless the loop has just added them
            flushSums();
        }
        double weights = beyondWeights;
        double excess = beyondExcess;
        for (int k = 0; k < LANES; k++) {
            weights += laneWeightTotal[k];
            excess += laneExcessTotal[k];
        }
        return nearest + excess / weights;
    }

    /** Slots from … end beyond FastExp.expMinus's range: excluded from the vectorised pass, weighed here. */
    private void weighBeyondRange(int from, int end, float nearest) {
        for (int j = from; j < end; j++) {
            float t = at(j) - nearest;
            if (!(t < FastExp.EXP_MINUS_RANGE)) {
                exclude(j);
                if (t != Float.POSITIVE_INFINITY) { // +inf: same-label (masked) entries
                    double w = FastExp.expNonPositive(-t);
                    beyondWeights += w;
                    beyondExcess += w * t;
                }
            }
        }
    }

    private void exclude(int slot) {
        if (excludedCount == excluded.length) {
            excluded = Arrays.copyOf(excluded, excluded.length * 2);
        }
        excluded[excludedCount++] = slot;
    }

    /** sum[k] += x[k]; the terms are weights and weighted excesses, never negative, so nothing cancels. */
    private static void add(float[] x, int n, float[] sum) {
        for (int k = 0; k < n; k++) {
            sum[k] += x[k];
        }
    }

    private void clearSums() {
        Arrays.fill(laneWeight, 0f);
        Arrays.fill(laneExcess, 0f);
        Arrays.fill(laneWeightTotal, 0.0);
        Arrays.fill(laneExcessTotal, 0.0);
    }

    /** Adds the block's float sums of weights and weighted distances into the double totals and clears them. */
    private void flushSums() {
        flush(laneWeight, laneWeightTotal);
        flush(laneExcess, laneExcessTotal);
    }

    /** Adds the block's float sums into the double totals and clears them. */
    private static void flush(float[] block, double[] total) {
        for (int k = 0; k < LANES; k++) {
            total[k] += block[k];
            block[k] = 0f;
        }
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
            sortKeys[c] = SortKeys.key(at(candSlot[c]), c);
        }
        Arrays.sort(sortKeys, 0, n);
        int[] slots = sortScratch;
        for (int c = 0; c < n; c++) {
            slots[c] = candSlot[SortKeys.index(sortKeys[c])];
        }
        for (int c = 0; c < n; c++) {
            candSlot[c] = slots[c];
            candDist[c] = at(slots[c]);
        }
        SortKeys.orderTiesByInsertion(candSlot, candDist, n, memory);
    }

    /** Candidates are sorted: a binary search. */
    @Override
    public int countAtMost(float d) {
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
                // No (finite) negative above the bound: all are candidates, the last the farthest.
                dn = candCount > 0 ? candDist[candCount - 1] : Float.NEGATIVE_INFINITY;
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

    /**
     * The anchor's memory samples (see {@link MemorySampling}), after the scan: the nearest
     * negatives come from the sorted candidates when there are enough of them (every negative
     * outside the candidates is farther than all of them), otherwise from the whole row.
     */
    private void sampleMemory(MemorySampling m) {
        int k = Math.min(m.negatives(), negativeCount);
        if (k > 0) {
            sampledNegatives = ensure(sampledNegatives, k);
            if (candCount >= k) {
                System.arraycopy(candSlot, 0, sampledNegatives, 0, k);
            } else {
                nearestOfRow(k);
            }
            sampledNegativeCount = k;
        }
        int p = Math.min(m.positives(), positiveCount);
        if (p > 0) {
            sampledPositives = ensure(sampledPositives, p);
            farthestPositives(p);
            sampledPositiveCount = p;
        }
    }

    /** The k nearest finite entries of the row into sampledNegatives, by (distance, insertion order). */
    private void nearestOfRow(int k) {
        sampledDist = ensure(sampledDist, k);
        keepRow();
        int n = 0;
        for (int j = 0; j < size; j++) {
            float d = at(j);
            if (d != Float.POSITIVE_INFINITY) {
                n = keepSmallest(sampledNegatives, n, k, j, d);
            }
        }
    }

    /** The p farthest positives into sampledPositives, by (distance descending, insertion order). */
    private void farthestPositives(int p) {
        sampledDist = ensure(sampledDist, p);
        int n = 0;
        for (int q = 0; q < positiveCount; q++) {
            n = keepSmallest(sampledPositives, n, p, posSlot[q], -posDist[q]); // negation is exact: ties stay ties
        }
    }

    /**
     * Offers {@code slot} to the {@code k} smallest by (key, insertion order) kept sorted in
     * {@code slots[0 … n)} with their keys in {@code sampledDist}; returns the new count.
     */
    private int keepSmallest(int[] slots, int n, int k, int slot, float key) {
        float[] keys = sampledDist;
        if (n == k && !before(key, slot, keys[k - 1], slots[k - 1])) {
            return n;
        }
        int i = n < k ? n++ : k - 1;
        while (i > 0 && before(key, slot, keys[i - 1], slots[i - 1])) {
            slots[i] = slots[i - 1];
            keys[i] = keys[i - 1];
            i--;
        }
        slots[i] = slot;
        keys[i] = key;
        return n;
    }

    private boolean before(float key, int slot, float otherKey, int otherSlot) {
        return key < otherKey || (key == otherKey && memory.seq(slot) < memory.seq(otherSlot));
    }

    private static int[] ensure(int[] a, int n) {
        return a.length >= n ? a : new int[Math.max(n, a.length * 2)];
    }

    private static float[] ensure(float[] a, int n) {
        return a.length >= n ? a : new float[Math.max(n, a.length * 2)];
    }

    @Override
    public MemoryBank memory() {
        return memory;
    }

    @Override
    public int slots() {
        return size;
    }

    @Override
    public float distance(int slot) {
        keepRow();
        return at(slot);
    }

    @Override
    public String batchId() {
        return batchId;
    }

    @Override
    public String anchorId() {
        return anchorId;
    }

    @Override
    public int anchorIndex() {
        return anchorIndex;
    }

    @Override
    public float margin() {
        return margin;
    }

    @Override
    public int positiveCount() {
        return positiveCount;
    }

    @Override
    public int positiveSlot(int k) {
        return posSlot[k];
    }

    @Override
    public float positiveDistance(int k) {
        return posDist[k];
    }

    @Override
    public int hardestPositive() {
        return hardestPositive;
    }

    @Override
    public int nearestNegativeSlot() {
        return nearestSlot;
    }

    @Override
    public float nearestNegativeDistance() {
        return nearestDist;
    }

    @Override
    public int candidateCount() {
        return candCount;
    }

    @Override
    public int candidateSlot(int c) {
        return candSlot[c];
    }

    @Override
    public float candidateDistance(int c) {
        return candDist[c];
    }

    @Override
    public MinedTriplet triplet(int positiveSlot, float dAp, int negativeSlot, float dAn) {
        return new MinedTriplet(anchorId, memory.sampleId(positiveSlot), memory.sampleId(negativeSlot),
                anchorLabel, memory.labelName(memory.labelId(negativeSlot)), dAp, dAn,
                memory.step(positiveSlot), memory.step(negativeSlot));
    }

    @Override
    public <T> T scratch(Class<T> kind, Supplier<T> make) {
        if (!kind.isInstance(selectorScratch)) {
            selectorScratch = make.get();
        }
        return kind.cast(selectorScratch);
    }
}
