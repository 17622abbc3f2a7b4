package dev.hardmine.mining;

import dev.hardmine.mining.internals.SharedLoop;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Scores of a batch against the whole memory as single-precision matrix products
 * ({@code Nd4j.gemm} with the memory transposed in the call, never materialised), into a scratch
 * buffer reused across batches. See {@link Distance} for what a score is.
 *
 * <p>The products are tiles: the batch in parts of at most {@link #PART_ROWS} anchors times the
 * memory in blocks of {@link #BLOCK_SLOTS} slots, each tile one product on one BLAS thread. The
 * caller and the common fork-join pool's workers take tiles one after the other until none is
 * left ({@link SharedLoop}), so a thread that another process or Kafka's own threads hold up
 * leaves its share to the others instead of making them wait at the end. OpenBLAS's own threads
 * are not used: they busy-wait (sched_yield) for about 0.1 s after each call before they sleep
 * (2^28 cycles, OPENBLAS_THREAD_TIMEOUT, read only from the environment), which on two cores took
 * a whole core from the anchor scans that follow every product, and from everything else in the
 * process. The tiling depends on the batch size and the memory size only, never on the threads:
 * OpenBLAS's rounding depends on the shape of a call (and on its thread count), so the scores do
 * too.
 *
 * <p>Layout of the scores: block after block, each block the {@code batch × width} scores of every
 * anchor against the block's slots, row after row (so a block's tile of one part is contiguous
 * too). {@link Scores#read} copies a stretch of one anchor's row that lies within one block.
 */
final class ScoreMatrix implements AutoCloseable {
    /** Most anchors per product: a larger batch is split so that its parts run on several threads. */
    static final int PART_ROWS = 256;
    /**
     * Memory slots per product: small enough for a fair share between two threads whatever holds
     * one of them up (8 tiles at 16 384 slots), large enough that a product runs at the speed of
     * one over the whole memory (blocks of 1 024 were slower, docs/PERFORMANCE.md). A multiple of
     * {@link AnchorScan#LANES}, so no chunk of a scan crosses blocks.
     */
    static final int BLOCK_SLOTS = 2048;

    static {
        // Process-wide; only the mining core uses ND4J.
        Nd4j.factory().blas().setMaxThreads(1);
    }

    /** One batch's scores; see the class comment for the layout. */
    record Scores(FloatBuffer buffer, int batch, int size) {
        /** Copies the scores of {@code anchor} against slots {@code from … from + n}, within one block, to {@code dst}. */
        void read(int anchor, int from, float[] dst, int n) {
            buffer.get((int) index(anchor, from), dst, 0, n);
        }

        /** Where the score of {@code anchor} against {@code slot} is. */
        long index(int anchor, int slot) {
            int first = slot - slot % BLOCK_SLOTS;
            return (long) first * batch + (long) anchor * blockWidth(slot) + slot - first;
        }

        /** The slots of the block that holds {@code slot}. */
        int blockWidth(int slot) {
            return Math.min(BLOCK_SLOTS, size - (slot - slot % BLOCK_SLOTS));
        }
    }

    private INDArray scratch;
    private long scratchLength;
    private INDArray anchors;

    /**
     * Computes the {@code batch × memory.size()} scores.
     *
     * @param ingested the batch's embeddings as they entered the memory, row-major batch × dim
     * @param parallel run the products on the common fork-join pool too, or on the caller only
     */
    Scores compute(MemoryBank memory, float[] ingested, int batch, Distance distance, boolean parallel) {
        int dim = memory.dim();
        int width = memory.width();
        int size = memory.size();
        if (size == 0) {
            // Every sample of the batch was evicted on arrival; ND4J rejects a 0-column product.
            return new Scores(FloatBuffer.allocate(0), batch, 0);
        }
        long needed = (long) batch * size;
        if (scratch == null || scratchLength < needed) {
            if (scratch != null) {
                scratch.close();
            }
            scratchLength = Math.max(needed, scratchLength + scratchLength / 2);
            scratch = Nd4j.createUninitialized(DataType.FLOAT, scratchLength);
        }
        if (anchors == null || anchors.rows() != batch || anchors.columns() != width) {
            if (anchors != null) {
                anchors.close();
            }
            anchors = Nd4j.createUninitialized(DataType.FLOAT, batch, width);
        }
        FloatBuffer a = anchors.data().asNioFloat();
        float[] rowBuf = new float[width];
        for (int i = 0; i < batch; i++) {
            int off = i * dim;
            double norm2 = 0;
            for (int k = 0; k < dim; k++) {
                norm2 += (double) ingested[off + k] * ingested[off + k];
            }
            if (distance == Distance.COSINE) {
                float scale = norm2 > 0 ? (float) (-1.0 / Math.sqrt(norm2)) : 0f;
                for (int k = 0; k < dim; k++) {
                    rowBuf[k] = ingested[off + k] * scale;
                }
                rowBuf[dim] = 0f;
                rowBuf[dim + 1] = 0f;
            } else {
                for (int k = 0; k < dim; k++) {
                    rowBuf[k] = -2f * ingested[off + k];
                }
                rowBuf[dim] = (float) norm2;
                rowBuf[dim + 1] = 1f;
            }
            a.put(i * width, rowBuf, 0, width);
        }
        int parts = (batch + PART_ROWS - 1) / PART_ROWS;
        int partRows = (batch + parts - 1) / parts;
        Scores result = new Scores(scratch.data().asNioFloat(), batch, size);
        int blocks = (size + BLOCK_SLOTS - 1) / BLOCK_SLOTS;
        SharedLoop.run(parts * blocks, tile -> {
            int firstRow = tile % parts * partRows;
            int n = Math.min(partRows, batch - firstRow);
            int firstSlot = tile / parts * BLOCK_SLOTS;
            int w = result.blockWidth(firstSlot);
            INDArray part = Nd4j.create(anchors.data(), new long[] {n, width}, new long[] {width, 1},
                    (long) firstRow * width, 'c');
            INDArray slots = memory.rowsView(firstSlot, w);
            INDArray out = Nd4j.create(scratch.data(), new long[] {n, w}, new long[] {w, 1},
                    result.index(firstRow, firstSlot), 'c');
            Nd4j.gemm(part, slots, out, false, true, 1.0, 0.0);
        }, parallel);
        return result;
    }

    @Override
    public void close() {
        if (scratch != null) {
            scratch.close();
            scratch = null;
        }
        if (anchors != null) {
            anchors.close();
            anchors = null;
        }
    }
}
