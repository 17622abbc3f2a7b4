package dev.hardmine.mining;

import dev.hardmine.mining.internals.FastExp;
import dev.hardmine.mining.internals.SharedLoop;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Scores of a batch against the whole memory as single-precision matrix products (OpenBLAS's
 * {@code cblas_sgemm}, the library ND4J runs its products on, with the memory transposed in the
 * call, never materialised), into a scratch buffer reused across batches. See {@link Distance} for
 * what a score is. For the euclidean distances the products leave out the anchor's |a|², the same
 * for its whole row, which the scans add ({@link Scores#offset}): one column fewer in every product
 * (the anchor's norm and the memory's column of ones), 1/130 of the work at D = 128.
 *
 * <p>The products are tiles: the batch in parts of at most {@link #PART_ROWS} anchors times the
 * memory in blocks of {@link #BLOCK_SLOTS} slots, each tile one product on one BLAS thread, and
 * the last slots in narrow blocks ({@link #TAIL_SLOTS}) times half parts. The caller and the
 * common fork-join pool's workers take tiles one after the other until none is left
 * ({@link SharedLoop}), so a thread that another process or Kafka's own threads hold up leaves its
 * share to the others instead of making them wait at the end; for large scores JobMiner has each
 * tile's thread pass the tile's rows right after its product, while they are in its cache
 * (Scores#computeTile with a TileDone, RowPass#tile), and the threads take the scans of the rows in
 * the same loop, after the tiles, each scan once its half part's tiles are finished
 * ({@link Scores#awaitRow}): the thread done with the products first scans the first half part
 * while the other computes the second's last narrow tiles. OpenBLAS's own threads are not used:
 * they busy-wait (sched_yield) for about 0.1 s after each call before they sleep (2^28 cycles,
 * OPENBLAS_THREAD_TIMEOUT, read only from the environment), which on two cores took a whole core
 * from the anchor scans that follow every product, and from everything else in the process. The
 * tiling depends on the batch size and the memory size only, never on the threads: OpenBLAS's
 * rounding depends on the shape of a call (and on its thread count), so the scores do too.
 *
 * <p>Layout of the scores: row-major, one anchor's scores against every slot after the other's, so
 * that a scan reads its row in one sequential stream ({@link Scores#read}). Each tile writes its
 * stretch of its anchors' rows in place (the product's leading dimension is the memory size):
 * {@code Nd4j.gemm} accepts no such strided output, hence the direct call. With the scores laid
 * out tile after tile instead, a row was 8 KiB stretches 2 MiB apart and took twice as long to
 * read (docs/PERFORMANCE.md).
 *
 * <p>Most of those products are never read again: the row pass reads every one, but the scans of
 * batch-hard and the other strategies that read no distance beyond their candidates read only the
 * anchor's positives, the chunk of its nearest negative and the chunks that hold negatives within
 * the margin — a few of a row's chunks. For those ({@link Scores#keepOnlyWhatScansRead}, chosen by
 * JobMiner) each tile goes to its thread's own buffer ({@link Tile}, 2 MiB, reused), the pass reads
 * it there, and only what a scan can read is copied into the matrix: the positives' products, the
 * chunks whose minimum is within a bound each row's positives give before any product
 * ({@link Scores#keepBound}), and the chunks whose minimum was the row's smallest so far when they
 * were passed. At M = 65 536 that spares the step the 64 MiB the products wrote and read back:
 * 23.2 instead of 27.7 ms (docs/PERFORMANCE.md). The tile is the same call but for the output's leading
 * dimension, which OpenBLAS's kernels do not round by: JobMiner's results are the same bits either
 * way (KeptProductsTest, against every product NaN that was not kept).
 */
final class ScoreMatrix implements AutoCloseable {
    /** Most anchors per product: a larger batch is split so that its parts run on several threads. */
    static final int PART_ROWS = 256;
    /**
     * Memory slots per product: small enough for a fair share between two threads whatever holds
     * one of them up (6 wide tiles and 8 narrow ones at 16 384 slots), large enough that a product
     * runs at the speed of one over the whole memory (blocks of 1 024 throughout were slower,
     * docs/PERFORMANCE.md).
     */
    static final int BLOCK_SLOTS = 2048;
    /**
     * The last {@code 2 · BLOCK_SLOTS} slots go in blocks this wide, so that the threads finish the
     * products within a narrow tile of each other: with every block as wide, the thread done first
     * waited for up to a whole block's product of the other's. Their tiles are half parts high, the
     * first half's first, so that the first half's rows are ready before the last tiles are done.
     * A multiple of {@link RowPass#CHUNK}, as BLOCK_SLOTS is: a tile's rows are passed chunk by chunk
     * ({@link Scores#computeTile} with a TileDone), so every tile must start on a chunk's first slot
     * (ScoreMatrixTest#tilesHandOnWholeChunksEachOnce fails otherwise).
     */
    static final int TAIL_SLOTS = BLOCK_SLOTS / 4;

    static {
        // Process-wide; only the mining core uses ND4J.
        Nd4j.factory().blas().setMaxThreads(1);
        BlasKernels.logAdvice();
    }

    /**
     * The margin {@link #withinExpRange} leaves for the rounding of the products: a float dot
     * product of K terms is off by at most K · 2⁻²⁴ of the sum of its terms' magnitudes, 8e-6 at
     * the 129 columns of D = 128 and the offset's addition, under 1 % up to 160 000 columns.
     */
    private static final double ROUNDING_SLACK = 1.01;

    /**
     * One batch's scores, {@code batch} rows of {@code size} (see the class comment for the layout),
     * computed tile by tile: {@link #computeTile} for every tile below {@link #tiles()}, in any
     * order and on any threads; a row may be read once {@link #awaitRow} has returned for it.
     */
    static final class Scores implements Products {
        /** Turns of awaitRow's busy wait before it yields: tens of microseconds, a fraction of a narrow tile. */
        private static final int SPINS = 1 << 12;
        private static final int INFINITY_BITS = Float.floatToRawIntBits(Float.POSITIVE_INFINITY);
        /** A row's keep bound before keepBound has set it: NaN, which no bound is. */
        private static final int UNSET_BITS = Float.floatToRawIntBits(Float.NaN);

        private final ByteBuffer bytes;
        private final FloatBuffer buffer;
        private final float[] offsets;
        private final int batch;
        private final int size;
        private final boolean withinExpRange;

        // The tiling: wide tiles (parts × wide blocks), then the narrow ones (groups × narrow blocks).
        private final int parts;
        private final int partRows;
        private final int groupRows;
        private final int wide;
        private final int narrow;
        private final int depth;
        private final int width;
        private final FloatPointer anchorsAt;
        private final FloatPointer memoryAt;
        private final FloatPointer scoresAt;
        // Per group of rows, the tiles finished that cover it; a group is ready at ready(group).
        private final AtomicIntegerArray finished;
        private volatile boolean failed;

        // What the products were computed from (set by prepare), for keepBound.
        private float[] anchorRows;
        private FloatBuffer memoryRows;
        private float[] inverseNorms;
        private Distance distance;
        // Set by keepOnlyWhatScansRead: the products go to the threads' tiles, and only these reach the matrix.
        private boolean keepsFew;
        private RowSummaries summaries;
        private float margin;
        // Per row, as float bits: the chunks of minimum at most keepAtMost are kept (UNSET_BITS until
        // keepBound sets it; −∞ when the row has no identity in the memory), and the smallest chunk
        // minimum met so far.
        private AtomicIntegerArray keepAtMost;
        private AtomicIntegerArray nearestSoFar;

        private Scores(ByteBuffer bytes, float[] offsets, int batch, int size, boolean withinExpRange,
                       int depth, int width, FloatPointer anchorsAt, FloatPointer memoryAt, FloatPointer scoresAt) {
            this.bytes = bytes;
            this.buffer = bytes.asFloatBuffer();
            this.offsets = offsets;
            this.batch = batch;
            this.size = size;
            this.withinExpRange = withinExpRange;
            this.depth = depth;
            this.width = width;
            this.anchorsAt = anchorsAt;
            this.memoryAt = memoryAt;
            this.scoresAt = scoresAt;
            parts = Math.max(1, (batch + PART_ROWS - 1) / PART_ROWS);
            partRows = Math.max(1, (batch + parts - 1) / parts);
            groupRows = (partRows + 1) / 2;
            wide = Math.max(0, (size - 2 * BLOCK_SLOTS) / BLOCK_SLOTS);
            narrow = (size - wide * BLOCK_SLOTS + TAIL_SLOTS - 1) / TAIL_SLOTS;
            finished = new AtomicIntegerArray((batch + groupRows - 1) / groupRows);
        }

        /**
         * Has the products go to the computing thread's {@link Tile} instead of the matrix, and only
         * what the scan of a strategy that reads no distance beyond its candidates can read reach the
         * matrix (the class comment): call before any tile, then {@link #keepBound} for every row
         * before its tiles are done with, and pass each tile into {@code summaries}.
         *
         * @param summaries where the rows are passed, their identities already set (RowSummaries#reset)
         * @param margin    the mining margin, whose semi-hard bound sets what the scans collect
         */
        void keepOnlyWhatScansRead(RowSummaries summaries, float margin) {
            keepsFew = true;
            this.summaries = summaries;
            this.margin = margin;
            keepAtMost = new AtomicIntegerArray(batch);
            nearestSoFar = new AtomicIntegerArray(batch);
            for (int i = 0; i < batch; i++) {
                keepAtMost.set(i, UNSET_BITS);
                nearestSoFar.set(i, INFINITY_BITS);
            }
        }

        /** For tests: every product of the matrix NaN, so that one read and never written shows in the results. */
        void fillWithNaN() {
            for (int at = 0; at < batch * size; at++) {
                buffer.put(at, Float.NaN);
            }
        }

        /** Whether every product reaches the matrix (the default), or only those keepOnlyWhatScansRead names. */
        boolean keepsEveryProduct() {
            return !keepsFew;
        }

        /**
         * After {@link #keepOnlyWhatScansRead}: from above, the bound up to which the scan of {@code row}
         * collects negatives as candidates, the semi-hard bound of its farthest positive (AnchorScan),
         * from the norms and products in double precision, without the float products: a float dot
         * product of K terms lies within K·2⁻²⁴ of the sum of its terms' magnitudes of the exact one,
         * and the conversion to a distance and the semi-hard bound are monotone. The anchor's own entry
         * counts as a positive here: only more is kept.
         */
        void keepBound(int row) {
            try {
                setKeepBound(row);
            } catch (RuntimeException | Error e) {
                failed = true;
                throw e;
            }
        }

        private void setKeepBound(int row) {
            int from = summaries.excludedFrom(row);
            int to = summaries.excludedTo(row);
            float farthest = Float.NEGATIVE_INFINITY;
            int[] identity = summaries.excluded();
            int a = row * width;
            for (int e = from; e < to; e++) {
                int slot = identity[e];
                int m = slot * width;
                double p0 = 0, p1 = 0, s0 = 0, s1 = 0;
                int k = 0;
                for (; k + 1 < depth; k += 2) {
                    double t0 = (double) anchorRows[a + k] * memoryRows.get(m + k);
                    double t1 = (double) anchorRows[a + k + 1] * memoryRows.get(m + k + 1);
                    p0 += t0;
                    p1 += t1;
                    s0 += Math.abs(t0);
                    s1 += Math.abs(t1);
                }
                if (k < depth) {
                    double t = (double) anchorRows[a + k] * memoryRows.get(m + k);
                    p0 += t;
                    s0 += Math.abs(t);
                }
                // The float products' rounding at most depth·2⁻²⁴ of the magnitudes, the double sum's far less.
                double above = p0 + p1 + (s0 + s1) * (2.0 * depth + 2) * 0x1p-24 + Double.MIN_NORMAL;
                float product = (float) above;
                if (product < above) {
                    product = Math.nextUp(product);
                }
                farthest = Math.max(farthest, RowPass.distance(product, distance, offsets[row], inverseNorms, slot));
            }
            float bound = Float.NEGATIVE_INFINITY;
            if (from < to) {
                // TripletClass.semiHardBound(d, margin) is the largest u with u − d ≤ margin in float: at most
                // (d + margin)(1 + 2⁻²³) up to subnormals.
                double most = (double) farthest + margin + (Math.abs((double) farthest) + Math.abs(margin)) * 0x1p-20
                        + Float.MIN_NORMAL;
                bound = (float) most;
                if (bound < most) {
                    bound = Math.nextUp(bound);
                }
            }
            keepAtMost.set(row, Float.floatToRawIntBits(bound));
        }

        /**
         * Copies of a tile what the scans can read into the matrix: for each of its rows the products of
         * the row's identity, the chunks whose minimum is within the row's keepBound (the candidates), and
         * those whose minimum was the smallest of the row when they were passed (one of them holds the
         * nearest negative, whichever thread passes the row's chunks in whichever order).
         */
        private void keepOf(Tile tile) {
            ByteBuffer from = tile.bytes;
            int[] identity = summaries.excluded();
            int firstChunk = tile.firstSlot / RowPass.CHUNK;
            int endChunk = (tile.firstSlot + tile.slots + RowPass.CHUNK - 1) / RowPass.CHUNK;
            int endSlot = tile.firstSlot + tile.slots;
            for (int r = tile.firstRow; r < tile.firstRow + tile.rows; r++) {
                int base = tile.rowAt(r);
                int rowAt = rowAt(r);
                for (int e = summaries.excludedFrom(r); e < summaries.excludedTo(r); e++) {
                    int slot = identity[e];
                    if (slot >= tile.firstSlot && slot < endSlot) {
                        bytes.putFloat(rowAt + slot * Float.BYTES, from.getFloat(base + slot * Float.BYTES));
                    }
                }
                if (summaries.excludedFrom(r) == summaries.excludedTo(r)) {
                    continue; // no positive: the scan reads no negative
                }
                int boundBits = keepAtMost.get(r);
                for (int turn = 0; boundBits == UNSET_BITS; turn++, boundBits = keepAtMost.get(r)) {
                    waitTurn(turn, "a row's bound of what to keep failed");
                }
                float keepAtMost = Float.intBitsToFloat(boundBits);
                for (int c = firstChunk; c < endChunk; c++) {
                    float min = summaries.chunkMin(r, c);
                    if (min == Float.POSITIVE_INFINITY) {
                        continue;
                    }
                    boolean keep = min <= keepAtMost;
                    int bits = Float.floatToRawIntBits(min);
                    for (int seen = nearestSoFar.get(r); bits <= seen; seen = nearestSoFar.get(r)) {
                        if (nearestSoFar.compareAndSet(r, seen, bits)) {
                            keep = true;
                            break;
                        }
                    }
                    if (keep) {
                        int first = c * RowPass.CHUNK;
                        int n = Math.min(RowPass.CHUNK, size - first);
                        bytes.put(rowAt + first * Float.BYTES, from, base + first * Float.BYTES, n * Float.BYTES);
                    }
                }
            }
        }

        /**
         * Copies the products of {@code anchor} against slots {@code from … from + n)} to
         * {@code dst[0 … n)}: each plus {@link #offset} is the score of the pair.
         */
        void read(int anchor, int from, float[] dst, int n) {
            buffer.get(anchor * size + from, dst, 0, n);
        }

        /**
         * Every product as bytes in the platform's order, {@code anchor}'s with slot j at byte
         * {@code rowAt(anchor) + 4·j}: the scratch itself, no copy, to read at absolute indices only.
         */
        @Override
        public ByteBuffer bytes() {
            return bytes;
        }

        /** Where {@code anchor}'s row starts in {@link #bytes()}. */
        @Override
        public int rowAt(int anchor) {
            return Math.toIntExact((long) anchor * size * Float.BYTES);
        }

        /** The product of {@code anchor} and {@code slot}: plus {@link #offset}, the score of the pair. */
        float product(int anchor, int slot) {
            return buffer.get(anchor * size + slot);
        }

        /** What every product of {@code anchor}'s row lacks of its score: |a|² for the euclidean distances, else 0. */
        float offset(int anchor) {
            return offsets[anchor];
        }

        /**
         * Every distance of the scores, as {@link Distance#toDistance} gives it, is known from the norms
         * to lie below {@link FastExp#EXP_MINUS_RANGE}.
         */
        boolean withinExpRange() {
            return withinExpRange;
        }

        /** Rows: the batch's anchors. */
        int batch() {
            return batch;
        }

        int tiles() {
            return parts * wide + finished.length() * narrow;
        }

        /**
         * Computes tile {@code tile}, one product.
         *
         * @throws IndexOutOfBoundsException unless {@code 0 ≤ tile < tiles()}; awaitRow fails from then on
         */
        void computeTile(int tile) {
            computeTile(tile, null);
        }

        /**
         * Computes tile {@code tile}, one product, then has {@code then} (unless null) take its rows
         * and slots while they are in this thread's cache, before the tile counts as finished for
         * awaitRow: what {@code then} writes, a thread that awaited one of the tile's rows reads.
         * Tiles start at a multiple of {@link RowPass#CHUNK} slots and end at one or at the row's end.
         *
         * @throws IndexOutOfBoundsException unless {@code 0 ≤ tile < tiles()}; awaitRow fails from then on
         */
        void computeTile(int tile, TileDone then) {
            computeTile(tile, null, then);
        }

        /**
         * Computes tile {@code tile} into {@code into} when the scores keep only what the scans read
         * ({@link #keepOnlyWhatScansRead}; null otherwise), has {@code then} pass it from there, then copies
         * what the scans can read of it into the matrix, all before the tile counts as finished.
         */
        void computeTile(int tile, Tile into, TileDone then) {
            if (keepsFew != (into != null)) {
                throw new IllegalStateException(keepsFew ? "the tiles go to the threads' own" : "the tiles go to the matrix");
            }
            try {
                Objects.checkIndex(tile, tiles());
                int firstRow;
                int rows;
                int firstSlot;
                int slots;
                if (tile < parts * wide) {
                    firstRow = tile % parts * partRows;
                    rows = Math.min(partRows, batch - firstRow);
                    firstSlot = tile / parts * BLOCK_SLOTS;
                    slots = BLOCK_SLOTS;
                } else {
                    int t = tile - parts * wide;
                    firstRow = t / narrow * groupRows;
                    rows = Math.min(groupRows, batch - firstRow);
                    firstSlot = wide * BLOCK_SLOTS + t % narrow * TAIL_SLOTS;
                    slots = Math.min(TAIL_SLOTS, size - firstSlot);
                }
                // scores[firstRow …][firstSlot …] = anchors[firstRow …] · memory[firstSlot …]ᵀ over the
                // first depth columns, rows of size (or of slots, in the thread's tile)
                FloatPointer out = into == null
                        ? new FloatPointer(scoresAt).position((long) firstRow * size + firstSlot)
                        : into.hold(firstRow, rows, firstSlot, slots);
                openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                        openblas_nolapack.CblasTrans, rows, slots, depth, 1f,
                        new FloatPointer(anchorsAt).position((long) firstRow * width), width,
                        new FloatPointer(memoryAt).position((long) firstSlot * width), width, 0f,
                        out, into == null ? size : slots);
                if (then != null) {
                    then.accept(firstRow, rows, firstSlot, slots);
                }
                if (into != null) {
                    keepOf(into);
                }
                for (int g = firstRow / groupRows; g <= (firstRow + rows - 1) / groupRows; g++) {
                    finished.incrementAndGet(g);
                }
            } catch (RuntimeException | Error e) {
                failed = true;
                throw e;
            }
        }

        /**
         * Returns once every tile that covers {@code anchor}'s row is finished, spinning meanwhile: a
         * thread waits here only while another computes the last tiles it needs, a narrow tile's time.
         * After {@link #SPINS} turns it yields its core at every turn, in case the thread it waits for
         * is the one waiting for a core (Kafka's threads share them).
         *
         * @throws IllegalStateException when a tile failed (the thread computing it throws its failure)
         */
        void awaitRow(int anchor) {
            int group = anchor / groupRows;
            int ready = ready(group);
            for (int turn = 0; finished.get(group) < ready; turn++) {
                waitTurn(turn, "the batch's products failed");
            }
        }

        /**
         * One turn of a wait for another thread's part of the batch: a busy wait for the first
         * {@link #SPINS} turns, then a yield at every turn.
         *
         * @throws IllegalStateException with {@code failure} once a part failed (its thread throws its failure)
         */
        private void waitTurn(int turn, String failure) {
            if (failed) {
                throw new IllegalStateException(failure);
            }
            if (turn < SPINS) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }

        /** The tiles that cover a group: the wide ones of every part it overlaps, and its narrow ones. */
        private int ready(int group) {
            int first = group * groupRows;
            int last = Math.min(batch, first + groupRows) - 1;
            return wide * (last / partRows - first / partRows + 1) + narrow;
        }
    }

    /** What follows a tile's product on its thread (Scores#computeTile). */
    @FunctionalInterface
    interface TileDone {
        void accept(int firstRow, int rows, int firstSlot, int slots);
    }

    /**
     * Where a pass reads products: the product of row r and slot j is the float at byte
     * {@code rowAt(r) + 4·j} of {@code bytes()}, in the platform's order (absolute indices only).
     */
    interface Products {
        ByteBuffer bytes();

        int rowAt(int row);
    }

    /**
     * One thread's tile of products, reused from tile to tile: PART_ROWS × BLOCK_SLOTS floats (2 MiB), so
     * that a tile's products stay near the thread that passes them and the matrix is spared writes its
     * scans never read (Scores#keepOnlyWhatScansRead). The products of the tile in hand, row after row.
     */
    static final class Tile implements Products {
        private final ByteBuffer bytes = ByteBuffer.allocateDirect(PART_ROWS * BLOCK_SLOTS * Float.BYTES)
                .order(ByteOrder.nativeOrder());
        private final FloatPointer at = new FloatPointer(bytes.asFloatBuffer());
        private int firstRow;
        private int rows;
        private int firstSlot;
        private int slots;

        /** The products of rows {@code firstRow …} and slots {@code firstSlot …} go here next. */
        private FloatPointer hold(int firstRow, int rows, int firstSlot, int slots) {
            this.firstRow = firstRow;
            this.rows = rows;
            this.firstSlot = firstSlot;
            this.slots = slots;
            return at;
        }

        @Override
        public ByteBuffer bytes() {
            return bytes;
        }

        /** Where row {@code row}'s slot 0 would be: its first slot in the tile is at {@code rowAt(row) + 4·firstSlot}. */
        @Override
        public int rowAt(int row) {
            return ((row - firstRow) * slots - firstSlot) * Float.BYTES;
        }
    }

    private INDArray scratch;
    private long scratchLength;
    private ByteBuffer scratchView; // of scratch, made once per allocation: a view took 30 µs
    private FloatBuffer scratchFloats; // the same, as floats
    private INDArray anchors;
    private float[] anchorRows = new float[0]; // what goes to anchors, reused: 132 KiB for 256 × 129

    /**
     * The {@code batch × memory.size()} scores, computed on the caller, and on the common fork-join
     * pool too when {@code parallel}.
     *
     * @param ingested the batch's embeddings as they entered the memory, row-major batch × dim
     */
    Scores compute(MemoryBank memory, float[] ingested, int batch, Distance distance, boolean parallel) {
        Scores scores = prepare(memory, ingested, batch, distance);
        SharedLoop.run(scores.tiles(), tile -> scores.computeTile(tile), parallel);
        return scores;
    }

    /**
     * The {@code batch × memory.size()} scores, to compute tile by tile ({@link Scores#computeTile}).
     * Valid until the next call.
     *
     * @param ingested the batch's embeddings as they entered the memory, row-major batch × dim
     */
    Scores prepare(MemoryBank memory, float[] ingested, int batch, Distance distance) {
        int dim = memory.dim();
        int width = memory.width();
        int size = memory.size();
        if (size == 0) {
            // Every sample of the batch was evicted on arrival: nothing to score.
            return new Scores(ByteBuffer.allocate(0).order(ByteOrder.nativeOrder()), new float[batch], batch, 0, true, dim, width, null, null, null);
        }
        long needed = (long) batch * size;
        if (scratch == null || scratchLength < needed) {
            if (scratch != null) {
                scratch.close();
            }
            scratchLength = Math.max(needed, scratchLength + scratchLength / 2);
            scratch = Nd4j.createUninitialized(DataType.FLOAT, scratchLength);
            scratchView = scratch.data().asNio().order(ByteOrder.nativeOrder());
            scratchFloats = scratchView.asFloatBuffer();
        }
        if (anchors == null || anchors.rows() != batch || anchors.columns() != width) {
            if (anchors != null) {
                anchors.close();
            }
            anchors = Nd4j.createUninitialized(DataType.FLOAT, batch, width);
        }
        if (anchorRows.length < batch * width) {
            anchorRows = new float[batch * width];
        }
        float[] rows = anchorRows;
        float[] offsets = new float[batch];
        double largestNorm2 = 0;
        for (int i = 0; i < batch; i++) {
            int off = i * dim;
            int row = i * width;
            double norm2 = Embeddings.squaredNorm(ingested, off, dim);
            largestNorm2 = Math.max(largestNorm2, norm2);
            if (distance == Distance.COSINE) {
                float scale = -Embeddings.inverseNorm(norm2);
                for (int k = 0; k < dim; k++) {
                    rows[row + k] = ingested[off + k] * scale;
                }
                rows[row + dim] = 0f;
            } else {
                for (int k = 0; k < dim; k++) {
                    rows[row + k] = -2f * ingested[off + k];
                }
                rows[row + dim] = 1f;
                offsets[i] = (float) norm2;
            }
        }
        anchors.data().asNioFloat().put(0, rows, 0, batch * width);
        // The cosine's products leave out the memory's column of squared norms.
        int depth = distance == Distance.COSINE ? dim : width;
        Scores scores = new Scores(scratchView, offsets, batch, size,
                withinExpRange(distance, memory, largestNorm2), depth, width,
                (FloatPointer) anchors.data().addressPointer(), memory.address(),
                (FloatPointer) scratch.data().addressPointer());
        scores.anchorRows = rows;
        scores.memoryRows = memory.rows();
        scores.inverseNorms = memory.inverseNorms();
        scores.distance = distance;
        return scores;
    }

    /**
     * Whether every distance between the batch and the memory lies below
     * {@link FastExp#EXP_MINUS_RANGE}, from the norms alone, so that the scans need not look for
     * the largest distance of each row (AnchorScan). The score of x and y sums terms whose
     * magnitudes add up to at most (|x| + |y|)² (Cauchy-Schwarz), so it is at most that up to the
     * float rounding; a cosine score times the entry's 1/|y| is at most 1 in magnitude, the inverse
     * norms being floats (Embeddings#inverseNorm: 0 where 1/|y| is none).
     */
    private static boolean withinExpRange(Distance distance, MemoryBank memory, double largestAnchorNorm2) {
        double limit = FastExp.EXP_MINUS_RANGE / ROUNDING_SLACK;
        switch (distance) {
            case COSINE:
                return 2.0 < limit;
            default:
                double reach = Math.sqrt(largestAnchorNorm2) + Math.sqrt(memory.largestSquaredNorm());
                double score = reach * reach;
                return (distance == Distance.EUCLIDEAN ? Math.sqrt(score) : score) < limit;
        }
    }

    /** The last scores prepared, row-major, as floats; valid until the next {@link #prepare} or close. */
    FloatBuffer floats() {
        return scratchFloats;
    }

    @Override
    public void close() {
        if (scratch != null) {
            scratch.close();
            scratch = null;
            scratchView = null;
            scratchFloats = null;
        }
        if (anchors != null) {
            anchors.close();
            anchors = null;
        }
    }
}
