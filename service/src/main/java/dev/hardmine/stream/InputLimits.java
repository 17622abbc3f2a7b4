package dev.hardmine.stream;

/**
 * Bounds on incoming batches; a batch beyond them is bad input (dead letter in the stream, an
 * error in replay).
 *
 * @param maxBatchSize most samples in one batch
 * @param maxDim       largest embedding dimension
 * @param maxIdLength  longest job_id, worker_id, batch_id, sample_id or label, in characters: ids
 *                     travel in every MinedBatch that names them, so one huge label would make
 *                     the job's results too large to publish for as long as it stays in memory
 */
public record InputLimits(int maxBatchSize, int maxDim, int maxIdLength) {
    public static final int DEFAULT_MAX_BATCH_SIZE = 8192;
    public static final int DEFAULT_MAX_DIM = 4096;
    public static final int DEFAULT_MAX_ID_LENGTH = 1024;

    public InputLimits {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("limits.max-batch-size must be >= 1, got " + maxBatchSize);
        }
        if (maxDim < 1) {
            throw new IllegalArgumentException("limits.max-dim must be >= 1, got " + maxDim);
        }
        if (maxIdLength < 1) {
            throw new IllegalArgumentException("limits.max-id-length must be >= 1, got " + maxIdLength);
        }
    }

    public InputLimits(int maxBatchSize, int maxDim) {
        this(maxBatchSize, maxDim, DEFAULT_MAX_ID_LENGTH);
    }

    public static InputLimits defaults() {
        return new InputLimits(DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_DIM, DEFAULT_MAX_ID_LENGTH);
    }
}
