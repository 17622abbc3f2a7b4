package dev.hardmine.registry;

/**
 * The payload ends too early: shorter than the 5-byte header, or its Avro body ends before the
 * record does.
 */
public final class TruncatedPayloadException extends WireFormatException {

    /** The {@link #reason()} of this exception. */
    public static final String REASON = "truncated";

    private final int length;

    public TruncatedPayloadException(String message, int length, Throwable cause) {
        super(message, cause);
        this.length = length;
    }

    /** Length of the payload, bytes. */
    public int length() {
        return length;
    }

    @Override
    public String reason() {
        return REASON;
    }
}
