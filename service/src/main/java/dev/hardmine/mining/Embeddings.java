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

    /**
     * Σ x² over {@code values[offset … offset + dim)}, in double: four running sums, of the indices
     * k ≡ 0, 1, 2, 3 (mod 4) from {@code offset}, added up at the end. One sum in index order waits
     * for each addition before the next; four let them overlap.
     */
    public static double squaredNorm(float[] values, int offset, int dim) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int end = offset + dim;
        int k = offset;
        for (; k + 3 < end; k += 4) {
            s0 += (double) values[k] * values[k];
            s1 += (double) values[k + 1] * values[k + 1];
            s2 += (double) values[k + 2] * values[k + 2];
            s3 += (double) values[k + 3] * values[k + 3];
        }
        for (; k < end; k++) {
            s0 += (double) values[k] * values[k];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * 1/|x| as the cosine's scores use it, from |x|² ({@link #squaredNorm}): 0 for the zero vector, and
     * 0 too where 1/|x| is no float (|x| below about 2.9e-39, components of about 1e-39 and less), so
     * that such a vector counts as the zero vector — at cosine distance 1 from everything — instead of
     * making its scores infinite or NaN (docs/DESIGN.md, "Distances").
     */
    public static float inverseNorm(double norm2) {
        float inverse = norm2 > 0 ? (float) (1.0 / Math.sqrt(norm2)) : 0f;
        return inverse < Float.POSITIVE_INFINITY ? inverse : 0f;
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
