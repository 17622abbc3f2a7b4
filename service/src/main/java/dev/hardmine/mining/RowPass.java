package dev.hardmine.mining;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.slf4j.LoggerFactory;

/**
 * One pass over an anchor's row of products that leaves what the scan needs of every distance,
 * without keeping any: per chunk of {@link #CHUNK} slots the smallest distance outside the
 * anchor's identity and the largest of all, and over the row the sums of e^(−d) and e^(−d)·d over
 * the negatives (fast-reid's weighted negative distance, when every distance lies in
 * FastExp.expMinus's range). AnchorScan computes the few distances it needs afterwards from the
 * products, or the whole row when a pass or a selector reads every one. The pass goes chunk by
 * chunk into {@link RowSummaries}, which adds each row's chunks in chunk order whatever order they
 * were passed in: for large scores JobMiner has the thread that has just computed a tile of
 * products pass the tile's rows while they are in its cache ({@link #tile}).
 *
 * <p>The numeric contract, the same bit for bit in both implementations: d is
 * {@link Distance#toDistance} of the score; the weight of a slot is FastExp.expMinus(d), times 0
 * at the anchor's identity; each chunk's weights (and weights times d) are summed in
 * {@link #SUM_LANES} float lanes, lane l taking the chunk's slots ≡ l (mod SUM_LANES) in slot
 * order — 32 terms of at most 1 each, so a lane's relative rounding error stays under
 * 32·2⁻²⁴ ≈ 2e-6 — every chunk's lane sums are added into one double per lane, and the lanes are
 * added in lane order at the end (RowSummaries#fold). Minima and maxima are exact whatever the order. So
 * the results depend on the row alone, never on the implementation, the CPU's vector width, the
 * threads or the order in which the tiles were computed. The contract holds for every score but NaN,
 * which none is: the products, the offsets and the inverse norms are finite
 * (SampleBatch#checkScoresFinite, Embeddings#inverseNorm), and so the distances are +0, positive or +∞.
 *
 * <p>{@link #create()} gives the Vector API's pass when the JVM has the {@code jdk.incubator.vector}
 * module ({@code --add-modules jdk.incubator.vector}, which hardmine's launcher passes to every
 * command) and the CPU has 256- or 512-bit vectors, the plain-Java pass otherwise (the same
 * results; the scans take about twice as long: 6.6 against 3.0 ms per batch at M = 65 536,
 * docs/PERFORMANCE.md).
 */
abstract class RowPass {
    /** Slots per chunk of the row: a power of two, 32 times {@link #SUM_LANES}. */
    static final int CHUNK = 512;
    /** Float lanes of the weight sums. */
    static final int SUM_LANES = 16;
    /**
     * Of the last chunk: the smallest distance outside the anchor's identity (+∞ when none), and the
     * largest distance when the pass was asked for the maxima.
     */
    protected float chunkMin;
    protected float chunkMax;

    // While a chunk is weighed: at the anchor's identity 0 and +∞, elsewhere 1 and 0.
    protected final float[] keep = new float[CHUNK];
    protected final float[] masked = new float[CHUNK];
    // The chunk's lane sums, as chunk() leaves them.
    protected final float[] laneWeight = new float[SUM_LANES];
    protected final float[] laneExcess = new float[SUM_LANES];

    RowPass() {
        Arrays.fill(keep, 1f);
    }

    /** The Vector API's pass where the JVM and the CPU allow it, else the plain-Java one; see the class comment. */
    static RowPass create() {
        return VectorSupport.AVAILABLE ? VectorSupport.create() : new ScalarRowPass();
    }

    /** JobMiner.scanPass. */
    static String describe() {
        if (VectorSupport.AVAILABLE) {
            return "Vector API, " + VectorRowPass.bits() + "-bit";
        }
        return !JobMiner.vectorModuleLoaded() ? "plain Java (no " + JobMiner.VECTOR_MODULE + " module)"
                : "plain Java (the CPU's vectors are neither 256 nor 512 bits wide)";
    }

    /** Whether this JVM runs the Vector API's pass ({@link #create}). */
    static boolean vectorised() {
        return VectorSupport.AVAILABLE;
    }

    /**
     * Rows {@code firstRow …} of the products, slots {@code firstSlot …} (starting at a chunk's first slot),
     * chunk by chunk into {@code out}: a tile right after its product (ScoreMatrix.Scores#computeTile), read
     * from the matrix or from the thread's own tile ({@code products}), or one whole row before its scan
     * (JobMiner). The rows' offsets and range come from {@code scores}. The chunks' maxima are passed only
     * where the norms do not bound the distances (AnchorScan.loadRow).
     */
    final void tile(ScoreMatrix.Products products, ScoreMatrix.Scores scores, int firstRow, int rows, int firstSlot,
                    int slots, MemoryBank memory, Distance distance, RowSummaries out) {
        int firstChunk = firstSlot / CHUNK;
        int endChunk = (firstSlot + slots + CHUNK - 1) / CHUNK;
        boolean maxima = !scores.withinExpRange();
        for (int r = firstRow; r < firstRow + rows; r++) {
            run(products, scores, r, firstChunk, endChunk, memory.size(), distance, memory.inverseNorms(), maxima, out);
        }
    }

    /**
     * Chunks {@code firstChunk … endChunk)} of {@code anchor}'s row of {@code size} slots, read from
     * {@code source}, into row {@code anchor} of {@code out}, the slots of {@code out}'s identity for that
     * row masked.
     *
     * @param maxima whether the chunks' maxima are wanted
     */
    final void run(ScoreMatrix.Products source, ScoreMatrix.Scores scores, int anchor, int firstChunk, int endChunk,
                   int size, Distance distance, float[] inverseNorms, boolean maxima, RowSummaries out) {
        ByteBuffer products = source.bytes();
        int rowAt = source.rowAt(anchor);
        float offset = scores.offset(anchor);
        int[] excluded = out.excluded();
        int next = out.excludedFrom(anchor);
        int last = out.excludedTo(anchor);
        while (next < last && excluded[next] < firstChunk * CHUNK) {
            next++;
        }
        for (int c = firstChunk; c < endChunk; c++) {
            int from = c * CHUNK;
            int first = next;
            for (; next < last && excluded[next] < from + CHUNK; next++) {
                keep[excluded[next] - from] = 0f;
                masked[excluded[next] - from] = Float.POSITIVE_INFINITY;
            }
            chunk(products, rowAt + from * Float.BYTES, from, Math.min(CHUNK, size - from), offset, distance,
                    inverseNorms, next > first, maxima);
            for (int i = first; i < next; i++) {
                keep[excluded[i] - from] = 1f;
                masked[excluded[i] - from] = 0f;
            }
            out.put(anchor, c, chunkMin, chunkMax, laneWeight, laneExcess);
        }
    }

    /**
     * Slots {@code from … from + n)}, whose products are at bytes {@code at, at + 4, …} of {@code products}: sets
     * chunkMin, chunkMax (with {@code maxima}; otherwise anything) and the chunk's lane sums
     * (laneWeight, laneExcess). With {@code masked}, {@code keep} and {@code masked} mark the anchor's
     * identity in the chunk; otherwise it has none.
     */
    abstract void chunk(ByteBuffer products, int at, int from, int n, float offset, Distance distance,
                        float[] inverseNorms, boolean masked, boolean maxima);

    /**
     * The distance of {@code slot}'s product, bit for bit as the passes compute it: Distance.toDistance
     * of the score (the product plus the row's offset, or times the slot's inverse norm for the cosine).
     */
    static float distance(float product, Distance distance, float offset, float[] inverseNorms, int slot) {
        return distance == Distance.COSINE ? distance.toDistance(product * inverseNorms[slot])
                : distance.toDistance(product + offset);
    }

    /**
     * The products of slots {@code from … from + n)} in {@code x[0 … n)} to their distances, in
     * place, as {@link #distance} converts one, in loops that C2 vectorises.
     *
     * @param scratch at least {@code n} long, for the cosine's inverse norms
     */
    static void toDistances(float[] x, int from, int n, float offset, Distance distance, float[] inverseNorms,
                            float[] scratch) {
        switch (distance) {
            case EUCLIDEAN:
                for (int k = 0; k < n; k++) {
                    x[k] = (float) Math.sqrt(Math.max(x[k] + offset, 0f));
                }
                break;
            case SQUARED_EUCLIDEAN:
                for (int k = 0; k < n; k++) {
                    x[k] = Math.max(x[k] + offset, 0f);
                }
                break;
            default:
                System.arraycopy(inverseNorms, from, scratch, 0, n);
                for (int k = 0; k < n; k++) {
                    x[k] = Math.max(1f + x[k] * scratch[k], 0f);
                }
                break;
        }
    }

    /** Whether the Vector API's pass can run here; decided once, at the first use. */
    private static final class VectorSupport {
        static final boolean AVAILABLE = available();

        private static boolean available() {
            if (!JobMiner.vectorModuleLoaded()) {
                LoggerFactory.getLogger(RowPass.class).warn("the JVM runs without the {} module: the anchor scans take "
                        + "the plain-Java path, about twice as long (java --add-modules {}, as hardmine's launcher runs "
                        + "every command)", JobMiner.VECTOR_MODULE, JobMiner.VECTOR_MODULE);
                return false;
            }
            return VectorRowPass.supported();
        }

        static RowPass create() {
            return new VectorRowPass();
        }
    }
}
