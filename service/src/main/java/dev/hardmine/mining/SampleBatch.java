package dev.hardmine.mining;

import java.util.HashSet;
import java.util.Set;

/**
 * One training batch in the primitive form the miner works on: ids and labels, and the
 * embeddings as one row-major {@code size × dim} float array.
 *
 * <p>Construction validates the contract of docs/DESIGN.md ("Bad input") that does not depend on the
 * job: non-empty ids and labels, unique sample ids, {@code dim > 0}, finite values. Violations
 * raise {@link InvalidBatchException} with a reason code. The arrays are not copied; callers
 * hand them over.
 */
public final class SampleBatch {
    /**
     * Largest squared L2 norm of an embedding as it enters the memory. Scores are squared distances
     * |a|² + |m|² − 2a·m in float32 ({@link ScoreMatrix}); up to this bound every score and every
     * partial sum of its product stays finite. Beyond it (components of about 1e18 and more, not
     * normalised) scores overflow to ∞ or NaN, and no distance could be mined from them.
     */
    public static final double MAX_SQUARED_NORM = Float.MAX_VALUE / 8.0;

    private final String batchId;
    private final String workerId;
    private final long step;
    private final int dim;
    private final String[] sampleIds;
    private final String[] labels;
    private final float[] embeddings;

    public SampleBatch(String batchId, String workerId, long step, int dim,
                       String[] sampleIds, String[] labels, float[] embeddings) {
        if (batchId == null || batchId.isEmpty()) {
            throw new InvalidBatchException(InvalidBatchException.EMPTY_ID, "batch_id is empty");
        }
        if (dim <= 0) {
            throw new InvalidBatchException(InvalidBatchException.BAD_DIM, "dim must be > 0, got " + dim);
        }
        if (sampleIds.length != labels.length) {
            throw new IllegalArgumentException(sampleIds.length + " sample ids but " + labels.length + " labels");
        }
        if (embeddings.length != (long) sampleIds.length * dim) {
            throw new InvalidBatchException(InvalidBatchException.EMBEDDING_LENGTH,
                    "expected " + sampleIds.length + " x " + dim + " embedding values, got " + embeddings.length);
        }
        Set<String> seen = new HashSet<>(sampleIds.length * 2);
        for (int i = 0; i < sampleIds.length; i++) {
            if (sampleIds[i] == null || sampleIds[i].isEmpty()) {
                throw new InvalidBatchException(InvalidBatchException.EMPTY_ID, "sample " + i + " has an empty sample_id");
            }
            if (labels[i] == null || labels[i].isEmpty()) {
                throw new InvalidBatchException(InvalidBatchException.EMPTY_ID,
                        "sample " + i + " (" + sampleIds[i] + ") has an empty label");
            }
            if (!seen.add(sampleIds[i])) {
                throw new InvalidBatchException(InvalidBatchException.DUPLICATE_SAMPLE_ID,
                        "sample_id '" + sampleIds[i] + "' appears more than once in the batch");
            }
        }
        for (int i = 0; i < embeddings.length; i++) {
            if (!Float.isFinite(embeddings[i])) {
                int sample = i / dim;
                throw new InvalidBatchException(InvalidBatchException.NON_FINITE, "sample " + sample + " ("
                        + sampleIds[sample] + ") has a non-finite value " + embeddings[i] + " at index " + (i % dim));
            }
        }
        this.batchId = batchId;
        this.workerId = workerId == null ? "" : workerId;
        this.step = step;
        this.dim = dim;
        this.sampleIds = sampleIds;
        this.labels = labels;
        this.embeddings = embeddings;
    }

    /** The same samples (the arrays shared, not copied) as batch {@code batchId} of {@code step}. */
    public SampleBatch asStep(String batchId, long step) {
        return new SampleBatch(batchId, workerId, step, dim, sampleIds, labels, embeddings);
    }

    public String batchId() {
        return batchId;
    }

    public String workerId() {
        return workerId;
    }

    public long step() {
        return step;
    }

    public int dim() {
        return dim;
    }

    public int size() {
        return sampleIds.length;
    }

    public String sampleId(int i) {
        return sampleIds[i];
    }

    public String label(int i) {
        return labels[i];
    }

    /**
     * Rejects the batch ({@link InvalidBatchException#NON_FINITE}) when an embedding is too large
     * for float32 scores ({@link #MAX_SQUARED_NORM}). With {@code normalize} every embedding
     * enters the memory with norm 1 (or 0), so none is.
     */
    public void checkScoresFinite(boolean normalize) {
        if (normalize) {
            return;
        }
        for (int i = 0; i < sampleIds.length; i++) {
            double norm2 = Embeddings.squaredNorm(embeddings, i * dim, dim);
            if (!(norm2 <= MAX_SQUARED_NORM)) {
                throw new InvalidBatchException(InvalidBatchException.NON_FINITE, "sample " + i + " ("
                        + sampleIds[i] + ") has a squared L2 norm of " + norm2 + ": its float32 scores would overflow"
                        + " (at most " + MAX_SQUARED_NORM + " without normalize)");
            }
        }
    }

    /** The row-major {@code size × dim} embeddings; not a copy. */
    public float[] embeddings() {
        return embeddings;
    }
}
