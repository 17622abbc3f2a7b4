package dev.hardmine.registry;

/**
 * The header is fine and the writer schema known, but the Avro body does not decode: corrupt bytes,
 * bytes left over after the record, or a writer schema the reader schema cannot resolve.
 */
public final class AvroDecodeException extends WireFormatException {

    /** The {@link #reason()} of this exception. */
    public static final String REASON = "avro-decode";

    private final int schemaId;

    public AvroDecodeException(int schemaId, String message, Throwable cause) {
        super(message, cause);
        this.schemaId = schemaId;
    }

    /** The writer schema's id from the payload's header. */
    public int schemaId() {
        return schemaId;
    }

    @Override
    public String reason() {
        return REASON;
    }
}
