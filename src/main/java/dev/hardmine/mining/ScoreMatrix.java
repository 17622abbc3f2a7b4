package dev.hardmine.mining;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Scores of a batch against the whole memory as ONE single-precision matrix product
 * ({@code Nd4j.gemm} with the memory transposed in the call, never materialised), into a scratch
 * buffer reused across batches. See {@link Distance} for what a score is.
 */
final class ScoreMatrix implements AutoCloseable {
    private INDArray scratch;
    private long scratchLength;
    private INDArray anchors;

    /**
     * Computes the {@code batch × memory.size()} scores; row i starts at {@code i * memory.size()}
     * of the returned buffer.
     *
     * @param ingested the batch's embeddings as they entered the memory, row-major batch × dim
     */
    FloatBuffer compute(MemoryBank memory, float[] ingested, int batch, Distance distance) {
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
        INDArray out = Nd4j.create(scratch.data(), new long[] {batch, size}, new long[] {size, 1}, 0, 'c');
        Nd4j.gemm(anchors, memory.rowsView(), out, false, true, 1.0, 0.0);
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
