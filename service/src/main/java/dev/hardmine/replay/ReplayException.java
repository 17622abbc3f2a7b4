package dev.hardmine.replay;

/** A replay stopped on bad input: says where (line or record number) and why. */
public final class ReplayException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String position;
    private final String reason;

    public ReplayException(String position, String reason, String message, Throwable cause) {
        super(position + ": " + message + " [" + reason + "]", cause);
        this.position = position;
        this.reason = reason;
    }

    /** Where in the input, e.g. {@code line 12} or {@code record 3}. */
    public String position() {
        return position;
    }

    /** Machine-readable reason, the same codes as the stream's dead letters. */
    public String reason() {
        return reason;
    }
}
