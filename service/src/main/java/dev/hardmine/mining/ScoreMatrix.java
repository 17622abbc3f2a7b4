package dev.hardmine.mining;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Scores of a batch against the whole memory as single-precision matrix products
 * ({@code Nd4j.gemm} with the memory transposed in the call, never materialised), into a scratch
 * buffer reused across batches. See {@link Distance} for what a score is.
 *
 * <p>The batch is split into parts of at most {@link #PART_ROWS} anchors, one product each, run in
 * parallel on the caller and the common fork-join pool, each product on one BLAS thread. OpenBLAS's
 * own threads busy-wait (sched_yield) for about 0.1 s after each call before they sleep (2^28
 * cycles, OPENBLAS_THREAD_TIMEOUT, read only from the environment): on two cores that took a whole
 * core from the anchor scans that follow every product, and from everything else in the process.
 * The split depends on the batch size only, never on the threads: OpenBLAS's rounding depends on
 * the rows of a call (and on its thread count), so the scores do too.
 */
final class ScoreMatrix implements AutoCloseable {
    /**
     * Most anchors per product. Each product streams the whole memory matrix: 2 × 128 rows on 2
     * threads took 7% longer than one 256-row product on 2 BLAS threads, 4 × 64 rows 25% longer.
     */
    static final int PART_ROWS = 128;

    static {
        // Process-wide; only the mining core uses ND4J.
        Nd4j.factory().blas().setMaxThreads(1);
    }

    private INDArray scratch;
    private long scratchLength;
    private INDArray anchors;

    /**
     * Computes the {@code batch × memory.size()} scores; row i starts at {@code i * memory.size()}
     * of the returned buffer.
     *
     * @param ingested the batch's embeddings as they entered the memory, row-major batch × dim
     * @param parallel run the products on the common fork-join pool too, or on the caller only
     */
    FloatBuffer compute(MemoryBank memory, float[] ingested, int batch, Distance distance, boolean parallel) {
        int dim = memory.dim();
        int width = memory.width();
        int size = memory.size();
        if (size == 0) {
            // Every sample of the batch was evicted on arrival; ND4J rejects a 0-column product.
            return FloatBuffer.allocate(0);
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
        INDArray rows = memory.rowsView();
        int parts = (batch + PART_ROWS - 1) / PART_ROWS;
        int partRows = (batch + parts - 1) / parts;
        IntStream products = IntStream.range(0, parts);
        (parallel ? products.parallel() : products).forEach(p -> {
            int first = p * partRows;
            int n = Math.min(partRows, batch - first);
            INDArray part = Nd4j.create(anchors.data(), new long[] {n, width}, new long[] {width, 1},
                    (long) first * width, 'c');
            INDArray out = Nd4j.create(scratch.data(), new long[] {n, size}, new long[] {size, 1},
                    (long) first * size, 'c');
            Nd4j.gemm(part, rows, out, false, true, 1.0, 0.0);
        });
        return scratch.data().asNioFloat();
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
