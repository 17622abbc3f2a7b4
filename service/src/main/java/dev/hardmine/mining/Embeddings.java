package dev.hardmine.mining;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Conversions of embedding values: the wire encoding and L2 normalisation. */
public final class Embeddings {
    private Embeddings() {
    }

    /**
     * Decodes {@code dim} little-endian float32 values (numpy {@code astype('<f4').tobytes()}) into
     * {@code out[offset …]}. The caller checks the length: {@code bytes.remaining() == 4 * dim}.
     */
    public static void decodeLittleEndian(ByteBuffer bytes, float[] out, int offset, int dim) {
        ByteBuffer le = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        le.asFloatBuffer().get(out, offset, dim);
    }

    /** Encodes {@code dim} values of {@code values[offset …]} as little-endian float32. */
    public static ByteBuffer encodeLittleEndian(float[] values, int offset, int dim) {
        ByteBuffer out = ByteBuffer.allocate(4 * dim).order(ByteOrder.LITTLE_ENDIAN);
        out.asFloatBuffer().put(values, offset, dim);
        return out;
    }

    /** Σ x² over {@code values[offset … offset + dim)}, in double, in index order. */
    public static double squaredNorm(float[] values, int offset, int dim) {
        double norm2 = 0;
        for (int k = offset, end = offset + dim; k < end; k++) {
            norm2 += (double) values[k] * values[k];
        }
        return norm2;
    }

    /** A copy of the row-major {@code n × dim} matrix with every non-zero row scaled to unit L2 norm. */
    public static float[] l2Normalized(float[] rows, int dim) {
        float[] out = new float[rows.length];
        for (int off = 0; off < rows.length; off += dim) {
            double norm2 = squaredNorm(rows, off, dim);
            double scale = norm2 > 0 ? 1.0 / Math.sqrt(norm2) : 0.0;
            for (int k = 0; k < dim; k++) {
                out[off + k] = (float) (rows[off + k] * scale);
            }
        }
        return out;
    }
}
