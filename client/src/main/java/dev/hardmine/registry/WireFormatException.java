package dev.hardmine.registry;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A record's bytes cannot be decoded: the payload itself is bad, and retrying will not help.
 *
 * <p>{@link #reason()} is a stable, machine-readable word for why (the dead-letter handling puts it
 * in a header). A registry that cannot be reached is not a wire-format problem: it surfaces as a
 * {@link SchemaRegistryException} instead, and the record must not be dead-lettered for it.
 */
public abstract sealed class WireFormatException extends SerializationException
        permits UnknownSchemaIdException, TruncatedPayloadException, BadMagicByteException, AvroDecodeException,
        MalformedKeyException {

    WireFormatException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Why the payload was rejected: {@code unknown-schema-id}, {@code truncated}, {@code bad-magic-byte}, … */
    public abstract String reason();
}
