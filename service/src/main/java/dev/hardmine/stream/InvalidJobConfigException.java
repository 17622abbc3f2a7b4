package dev.hardmine.stream;

/**
 * A JobConfig that decodes but violates the contract: keyed by another id than its job_id, or
 * with an override the service rejects. {@link #reason()} is the stable code of its dead letter.
 */
public final class InvalidJobConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** An override the service rejects (a negative margin, an unknown strategy, …). */
    public static final String INVALID = "invalid-job-config";

    private final String reason;

    InvalidJobConfigException(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
