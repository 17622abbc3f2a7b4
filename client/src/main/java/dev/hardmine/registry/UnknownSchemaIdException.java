package dev.hardmine.registry;

/** The payload names a schema id that the registry does not know (Confluent error 40403). */
public final class UnknownSchemaIdException extends WireFormatException {

    /** The {@link #reason()} of this exception. */
    public static final String REASON = "unknown-schema-id";

    private final int schemaId;

    public UnknownSchemaIdException(int schemaId, Throwable cause) {
        super("Unknown schema id " + schemaId + " in the payload's header", cause);
        this.schemaId = schemaId;
    }

    /** The id found in the payload's header. */
    public int schemaId() {
        return schemaId;
    }

    @Override
    public String reason() {
        return REASON;
    }
}
