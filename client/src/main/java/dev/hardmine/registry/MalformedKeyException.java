package dev.hardmine.registry;

/** A record key is not valid UTF-8. */
public final class MalformedKeyException extends WireFormatException {

    /** The {@link #reason()} of this exception. */
    public static final String REASON = "bad-key-encoding";

    public MalformedKeyException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String reason() {
        return REASON;
    }
}
