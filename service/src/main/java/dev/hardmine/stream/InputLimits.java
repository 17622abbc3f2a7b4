package dev.hardmine.stream;

/**
 * Bounds on incoming batches; a batch beyond them is bad input (dead letter in the stream, an
 * error in replay).
 *
 * @param maxBatchSize most samples in one batch
 * @param maxDim       largest embedding dimension
 */
public record InputLimits(int maxBatchSize, int maxDim) {
    public static final int DEFAULT_MAX_BATCH_SIZE = 8192;
    public static final int DEFAULT_MAX_DIM = 4096;

    public InputLimits {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("limits.max-batch-size must be >= 1, got " + maxBatchSize);
        }
        if (maxDim < 1) {
            throw new IllegalArgumentException("limits.max-dim must be >= 1, got " + maxDim);
        }
    }

    public static InputLimits defaults() {
        return new InputLimits(DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_DIM);
    }
}
