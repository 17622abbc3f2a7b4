package dev.hardmine.registry;

/**
 * A schema registry request failed: the registry answered with an error, or could not be reached.
 *
 * <p>Carries Confluent's error code (for example 40401 subject not found, 40403 schema not found,
 * 409 incompatible schema, 42201 invalid schema) and the HTTP status, so that callers can tell a
 * client mistake (4xx, not worth retrying) from a registry outage (5xx or no answer).
 */
public class SchemaRegistryException extends RuntimeException {

    /** {@link #httpStatus()} when no HTTP response was received (connection refused, timeout). */
    public static final int NO_RESPONSE = 0;
    /** {@link #errorCode()} when the response carried no Confluent error code. */
    public static final int NO_ERROR_CODE = -1;

    /** Subject not found. */
    public static final int SUBJECT_NOT_FOUND = 40401;
    /** Version not found. */
    public static final int VERSION_NOT_FOUND = 40402;
    /** Schema not found. */
    public static final int SCHEMA_NOT_FOUND = 40403;
    /** The subject has no subject-level compatibility configured. */
    public static final int SUBJECT_COMPATIBILITY_NOT_CONFIGURED = 40408;
    /** The schema is incompatible with an earlier version of the subject. */
    public static final int INCOMPATIBLE_SCHEMA = 409;
    /** The schema is not a valid schema. */
    public static final int INVALID_SCHEMA = 42201;
    /** The version is neither a positive integer nor {@code latest}. */
    public static final int INVALID_VERSION = 42202;
    /** The subject name is empty. */
    public static final int INVALID_SUBJECT = 42208;
    /** The compatibility level is not one of Confluent's. */
    public static final int INVALID_COMPATIBILITY_LEVEL = 42203;
    /** The registry's backing store failed. */
    public static final int STORE_ERROR = 50001;
    /** The registry's backing store did not answer in time. */
    public static final int STORE_TIMEOUT = 50002;

    private final int httpStatus;
    private final int errorCode;
    private final boolean retriable;

    /**
     * @param httpStatus HTTP status of the answer, or {@link #NO_RESPONSE}
     * @param errorCode  Confluent's {@code error_code}, or {@link #NO_ERROR_CODE}
     * @param message    the registry's {@code message}, or a description of the failure
     */
    public SchemaRegistryException(int httpStatus, int errorCode, String message) {
        this(httpStatus, errorCode, message, null);
    }

    /** As {@link #SchemaRegistryException(int, int, String)}, with a cause. */
    public SchemaRegistryException(int httpStatus, int errorCode, String message, Throwable cause) {
        this(httpStatus, errorCode, message, cause, httpStatus == NO_RESPONSE || httpStatus >= 500);
    }

    /**
     * As {@link #SchemaRegistryException(int, int, String, Throwable)}, saying whether the same
     * request may succeed later, for a failure without an answer that no retry mends (the
     * registry's TLS certificate rejected, for one).
     */
    public SchemaRegistryException(int httpStatus, int errorCode, String message, Throwable cause, boolean retriable) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
        this.retriable = retriable;
    }

    /** HTTP status of the registry's answer, or {@link #NO_RESPONSE}. */
    public int httpStatus() {
        return httpStatus;
    }

    /** Confluent's {@code error_code} from the answer's body, or {@link #NO_ERROR_CODE}. */
    public int errorCode() {
        return errorCode;
    }

    /**
     * True when the same request may succeed later: no answer at all (but for a rejected TLS
     * certificate), or a 5xx answer.
     */
    public boolean isRetriable() {
        return retriable;
    }

    @Override
    public String toString() {
        return getClass().getName() + ": " + getMessage() + " (HTTP " + httpStatus + ", error_code " + errorCode + ")";
    }
}
