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
 * <p>Invariants after {@link #scan}: {@code distances} holds the anchor's distances to every memory
 * slot, with every same-label entry (the anchor itself included) set to +∞, so that the finite
 * entries are exactly N(a);
 * positives are listed in insertion order; {@code candSlot/candDist[0 … candCount)} hold every
 * negative whose distance is at most the collection bound, sorted by (distance, insertion order).
 * Every negative outside the candidates is easy for every positive of the anchor. The selector
 * reads all this through {@link ScannedAnchor}, never the arrays themselves.
 *
 * <p>Speed: the row passes are written for C2's superword vectoriser (JDK 17), which vectorises
 * element-wise loops whose array accesses all share one index — no reductions worth the name, no
 * {@code a[k]} next to {@code b[from + k]}. So the row is read into chunks of {@link #LANES}
 * slots, each an array of its own, and every reduction (minimum, maximum, sum) is kept per lane:
 * lane k covers slots k, k + LANES, k + 2·LANES, … and the lanes are folded once per row. A lane's
 * extremum also says which column of slots holds the row's nearest negative or its candidates, so
 * the rare per-slot work visits those columns only. Results depend on the slot layout and LANES,
 * never on scheduling.
 */
final class AnchorScan implements ScannedAnchor {
    /** Chunk length of the row passes and number of lanes of their reductions; a power of two. */
    static final int LANES = 512;
    private static final int LANE_BITS = Integer.numberOfTrailingZeros(LANES);
    /** Up to this many lanes to search slot by slot, by lane; beyond, one pass over the row in order is cheaper. */
    private static final int FEW_LANES = LANES / 8;
    /**
     * Chunks whose weights a lane sums in float before adding them into a double: at most 32 terms
     * of at most 1, so each block's relative rounding error stays under 32·2⁻²⁴ ≈ 2e-6 at the cost
     * of one float add per element (a compensated sum took four). With blocks of 16 the scans
     * took 3–8 % longer (measured together with the lane maxima's reset that bounded rows skip).
     */
    private static final int FLOAT_BLOCK = 32;

    // The anchor's distances, chunk c holding slots c·LANES … c·LANES + LANES (see at).
    private float[][] distances = new float[0][];
    private int size;

    private MemoryBank memory;
    private Distance distance;
    private float margin;
    private String batchId;
    private String anchorId;
    private String anchorLabel;
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
    // The same from loadRow's pass, with the weights e^(−d): valid when the whole row lies in
    // FastExp.expMinus's range, NaN otherwise (see loadRow).
    private double rowWeightedMean;

    // Slots that take no part in the vectorised weights: the same-label ones (+inf in the row once
    // masked), sorted, then for weightedMean those beyond FastExp.expMinus's range.
    private int excludedCount;
    private int[] excluded = new int[16];
    private double beyondWeights; // Σ w and Σ w·(d − nearest) over the slots beyond expMinus's range
    private double beyondExcess;

    // Scratch of the row passes, one chunk long, and the per-lane reductions (see the class comment).
    private final float[] chunkWeight = new float[LANES];
    private final float[] chunkExcess = new float[LANES];
    // While loadRow weighs (keep) or converts (masked) a chunk: at its same-label slots 0 and +inf, elsewhere 1 and 0.
    private final float[] keep = filled(LANES, 1f);
    private final float[] masked = new float[LANES];
    private final float[] laneMin = new float[LANES];      // of the row without the same-label entries
    private final float[] laneMax = new float[LANES];      // of the row before masking; see loadRow
    // Per-lane sums of the weights and of the weighted excesses over the reference (loadRow's, with
    // reference 0, or weightedMean's, with the nearest negative): float within a block of chunks,
    // then double across blocks.
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

    void scan(MemoryBank memory, ScoreMatrix.Scores scores, String batchId, int anchorIndex, String anchorId,
              String anchorLabel, MiningSettings settings, TripletSelector selector) {
        this.memory = memory;
        this.batchId = batchId;
        this.distance = settings.distance();
        this.margin = settings.margin();
        this.anchorId = anchorId;
        this.anchorLabel = anchorLabel;
        this.anchorIndex = anchorIndex;
        this.size = memory.size();
        triplets.clear();
        sampledNegativeCount = 0;
        sampledPositiveCount = 0;
        hard = semiHard = easy = 0;
        lossBatchHard = lossWeighted = semiHardLossSum = 0;
        positivePairs = 0;
        candCount = 0;

        IntList same = sameLabelSlots();
        loadRow(scores, anchorIndex);
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

    /** The slots of the anchor's identity (the anchor itself included) into {@code excluded}, sorted; returns them in insertion order. */
    private IntList sameLabelSlots() {
        int labelId = memory.labelIdOf(anchorLabel);
        IntList same = labelId >= 0 ? memory.slotsOfLabel(labelId) : null;
        int sameCount = same == null ? 0 : same.size();
        if (excluded.length < sameCount) {
            excluded = new int[sameCount * 2];
        }
        for (int i = 0; i < sameCount; i++) {
            excluded[i] = same.get(i);
        }
        excludedCount = sameCount;
        Arrays.sort(excluded, 0, excludedCount);
        return same;
    }

    /**
     * Reads the anchor's scores into {@code distances}, chunk by chunk, as distances, and leaves in
     * {@code laneMin} each lane's smallest distance outside the anchor's identity (collectPositives
     * masks those entries in the row), and in {@code laneMax} each lane's largest distance unless
     * the norms already bound every distance of the scores (ScoreMatrix), which the row's largest
     * distance is only wanted for: whether the row lies in FastExp.expMinus's range. A second loop over
     * the converted chunks (in cache, no copies) sums the softmax weights of the negatives against a
     * reference of 0, e^(−d), and e^(−d)·d, which
     * is fast-reid's weighted negative distance without a second pass over the row whenever every
     * distance of the row lies in FastExp.expMinus's range, as all do for unit-norm embeddings
     * under the euclidean and cosine distances (squared euclidean: unless two are antipodal).
     * Otherwise (far-apart or unnormalised embeddings: the weights need the nearest negative as
     * reference) {@code rowWeightedMean} is NaN and weightedMean takes the second pass. Which one
     * applies depends on the row alone (the bound from the norms only spares looking). Adding +∞
     * masks an entry because no score is NaN: the memory holds no embedding too large for float32
     * scores (SampleBatch.checkScoresFinite).
     */
    private void loadRow(ScoreMatrix.Scores scores, int anchorIndex) {
        int chunkCount = (size + LANES - 1) / LANES;
        if (distances.length < chunkCount) {
            growDistances(chunkCount);
        }
        boolean bounded = scores.withinExpRange();
        if (!bounded) {
            Arrays.fill(laneMax, Float.NEGATIVE_INFINITY);
        }
        Arrays.fill(laneMin, Float.POSITIVE_INFINITY);
        clearSums();
        // The reads first, in one stream: interleaved with the arithmetic they took longer.
        for (int c = 0; c < chunkCount; c++) {
            int from = c * LANES;
            scores.read(anchorIndex, from, distances[c], Math.min(LANES, size - from));
        }
        float offset = scores.offset(anchorIndex);
        int next = 0;
        for (int c = 0; c < chunkCount; c++) {
            int from = c * LANES;
            int n = Math.min(LANES, size - from);
            float[] chunk = distances[c];
            int first = next;
            next = mark(masked, first, from, Float.POSITIVE_INFINITY);
            toDistances(chunk, from, n, offset);
            if (!bounded) {
                trackMaxima(chunk, n);
            }
            mark(masked, first, from, 0f);
        }
        // The weights in a loop of their own, without calls: the calls to the copy stubs that the
        // conversion's loop once made had C2 keep the exponential's constants on the stack and
        // reload them for every vector.
        next = 0;
        for (int c = 0; c < chunkCount; c++) {
            int from = c * LANES;
            int n = Math.min(LANES, size - from);
            int first = next;
            next = mark(keep, first, from, 0f);
            weigh(distances[c], n);
            mark(keep, first, from, 1f);
            if ((c + 1) % FLOAT_BLOCK == 0) {
                flushSums();
            }
        }
        if (chunkCount % FLOAT_BLOCK != 0) { // the last block's sums, unless the loop has just added them
            flushSums();
        }
        double weights = 0.0;
        double weighted = 0.0;
        for (int k = 0; k < LANES; k++) {
            weights += laneWeightTotal[k];
            weighted += laneExcessTotal[k];
        }
        rowWeightedMean = bounded || largestOfLanes() < FastExp.EXP_MINUS_RANGE ? weighted / weights : Double.NaN;
    }

    /**
     * Products plus {@code offset} (the row's, Scores.offset) to distances in {@code chunk[0 … n)},
     * exactly as Distance.toDistance does, with the lane minima of the entries not masked.
     */
    private void toDistances(float[] c, int from, int n, float offset) {
        float[] min = laneMin;
        float[] mask = masked;
        switch (distance) {
            case EUCLIDEAN:
                for (int k = 0; k < n; k++) {
                    float d = (float) Math.sqrt(Math.max(c[k] + offset, 0f));
                    c[k] = d;
                    min[k] = Math.min(min[k], d + mask[k]);
                }
                break;
            case SQUARED_EUCLIDEAN:
                for (int k = 0; k < n; k++) {
                    float d = Math.max(c[k] + offset, 0f);
                    c[k] = d;
                    min[k] = Math.min(min[k], d + mask[k]);
                }
                break;
            default:
                float[] inv = chunkWeight; // free: only weightedMean's pass uses it
                System.arraycopy(memory.inverseNorms(), from, inv, 0, n);
                for (int k = 0; k < n; k++) {
                    float d = Math.max(1f + c[k] * inv[k], 0f);
                    c[k] = d;
                    min[k] = Math.min(min[k], d + mask[k]);
                }
                break;
        }
    }

    /**
     * Sets {@code mask} to {@code value} at the same-label slots of the chunk from {@code from}, those
     * listed from {@code excluded[first]} on (sorted); returns the index of the first one after the chunk.
     */
    private int mark(float[] mask, int first, int from, float value) {
        int i = first;
        for (; i < excludedCount && excluded[i] < from + LANES; i++) {
            mask[excluded[i] - from] = value;
        }
        return i;
    }

    /** The distance to {@code slot}, from its chunk. */
    private float at(int slot) {
        return distances[slot >>> LANE_BITS][slot & (LANES - 1)];
    }

    private void growDistances(int chunkCount) {
        int had = distances.length;
        distances = Arrays.copyOf(distances, Math.max(chunkCount, had * 2));
        for (int c = had; c < distances.length; c++) {
            distances[c] = new float[LANES];
        }
    }

    private float largestOfLanes() {
        float largest = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < LANES; k++) {
            largest = Math.max(largest, laneMax[k]);
        }
        return largest;
    }

    /** The lane maxima over the distances in {@code chunk[0 … n)}, all of them, masked or not. */
    private void trackMaxima(float[] c, int n) {
        float[] max = laneMax;
        for (int k = 0; k < n; k++) {
            max[k] = Math.max(max[k], c[k]);
        }
    }

    /**
     * The lane sums of e^(−d)·keep and e^(−d)·keep·d over the distances in {@code chunk[0 … n)}
     * (meaningless where d is beyond FastExp.expMinus's range; loadRow then discards them). A loop
     * of its own: fused with the conversion's, C2 vectorises it too, but the scans took 10 % longer.
     */
    private void weigh(float[] c, int n) {
        float[] kept = keep;
        float[] w = laneWeight;
        float[] wd = laneExcess;
        for (int k = 0; k < n; k++) {
            float d = c[k];
            float e = FastExp.expMinus(d) * kept[k];
            w[k] += e;
            wd[k] += e * d;
        }
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
                float d = at(slot);
                posSlot[positiveCount] = slot;
                posDist[positiveCount] = d;
                // Strictly greater: on ties the earlier-inserted positive stays.
                if (hardestPositive < 0 || d > posDist[hardestPositive]) {
                    hardestPositive = positiveCount;
                }
                positiveCount++;
            }
            distances[slot >>> LANE_BITS][slot & (LANES - 1)] = Float.POSITIVE_INFINITY;
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
        float nearest = laneMinima();
        nearestDist = nearest;
        nearestSlot = -1;
        if (nearest == Float.POSITIVE_INFINITY) {
            // No finite negative: nothing to collect, nothing to weigh (the mean is 0/0).
            candCount = 0;
            nearestAboveBound = Float.POSITIVE_INFINITY;
            negativeWeightedMean = Double.NaN;
            return;
        }
        for (int k = 0; k < LANES; k++) {
            if (laneMin[k] == nearest) {
                nearestInColumn(k, nearest);
            }
        }
        collectCandidates(collectBound, nearest);
        negativeWeightedMean = Double.isNaN(rowWeightedMean) ? weightedMean(nearest) : rowWeightedMean;
    }

    /** Folds the per-lane minima of the row (same-label entries masked) into the nearest distance. */
    private float laneMinima() {
        float nearest = Float.POSITIVE_INFINITY;
        for (int k = 0; k < LANES; k++) {
            nearest = Math.min(nearest, laneMin[k]);
        }
        return nearest;
    }

    private void nearestInColumn(int lane, float nearest) {
        for (int j = lane; j < size; j += LANES) {
            if (at(j) == nearest && (nearestSlot < 0 || memory.seq(j) < memory.seq(nearestSlot))) {
                nearestSlot = j;
            }
        }
    }

    /**
     * Candidates (d ≤ bound) in any order — sortCandidates orders them — and the nearest distance
     * above the bound. Only the columns whose lane minimum is within the bound are visited, or the
     * whole row in order when that is most of it (e.g. the easy strategy collects everything).
     */
    private void collectCandidates(float bound, float nearest) {
        candCount = 0;
        if (nearest > bound) {
            nearestAboveBound = nearest;
            return;
        }
        float minAbove = Float.POSITIVE_INFINITY;
        int lanesWithin = 0;
        for (int k = 0; k < LANES; k++) {
            if (laneMin[k] <= bound) {
                lanesWithin++;
            } else {
                minAbove = Math.min(minAbove, laneMin[k]);
            }
        }
        if (lanesWithin > FEW_LANES) {
            minAbove = collectRange(0, size, 1, bound, Float.POSITIVE_INFINITY);
        } else {
            for (int k = 0; k < LANES; k++) {
                if (laneMin[k] <= bound) {
                    minAbove = collectRange(k, size, LANES, bound, minAbove);
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
     * nearest + Σ w·(d − nearest) / Σ w over the negatives, w = e^(nearest − d). The weights whose
     * excess t = d − nearest lies in FastExp.expMinus's range come from a vectorised pass, the
     * others from the scalar FastExp.expNonPositive: those are found by lane from the lane maxima
     * (loadRow has them: this pass runs only for rows the norms do not bound), and there are none
     * for unit-norm embeddings, whose euclidean and cosine distances are at most 2.
     */
    private double weightedMean(float nearest) {
        beyondWeights = 0.0;
        beyondExcess = 0.0;
        int lanesBeyond = 0;
        for (int k = 0; k < LANES; k++) {
            if (!(laneMax[k] - nearest < FastExp.EXP_MINUS_RANGE)) {
                lanesBeyond++;
            }
        }
        if (lanesBeyond > FEW_LANES) {
            weighBeyondRange(0, 1, nearest);
        } else if (lanesBeyond > 0) {
            for (int k = 0; k < LANES; k++) {
                if (!(laneMax[k] - nearest < FastExp.EXP_MINUS_RANGE)) {
                    weighBeyondRange(k, LANES, nearest);
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

    /**
     * Slots from, from + step, … beyond FastExp.expMinus's range: excluded from the vectorised pass,
     * weighed here.
     */
    private void weighBeyondRange(int from, int step, float nearest) {
        for (int j = from; j < size; j += step) {
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

    private static float[] filled(int n, float value) {
        float[] a = new float[n];
        Arrays.fill(a, value);
        return a;
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
