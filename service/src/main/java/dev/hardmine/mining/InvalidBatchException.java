package dev.hardmine.mining;

/**
 * A batch that violates the contract (docs/DESIGN.md, "Bad input"). {@link #reason()} is a stable,
 * machine-readable code that the stream puts in dead-letter headers and the CLI prints.
 */
public final class InvalidBatchException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** Reason codes. */
    public static final String MALFORMED = "malformed";
    public static final String EMPTY_ID = "empty-id";
    public static final String DUPLICATE_SAMPLE_ID = "duplicate-sample-id";
    public static final String EMBEDDING_LENGTH = "embedding-length";
    public static final String NON_FINITE = "non-finite-embedding";
    public static final String DIM_MISMATCH = "dim-mismatch";
    public static final String BAD_DIM = "bad-dim";
    public static final String BATCH_TOO_LARGE = "batch-too-large";
    public static final String DIM_TOO_LARGE = "dim-too-large";
    /** An id or label longer than the service's limit. */
    public static final String ID_TOO_LONG = "id-too-long";
    /** The record's key is not the batch's job_id (a null key included). */
    public static final String KEY_MISMATCH = "key-mismatch";

    private final String reason;

    public InvalidBatchException(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
