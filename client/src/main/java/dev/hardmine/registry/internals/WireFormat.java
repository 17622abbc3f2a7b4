package dev.hardmine.registry.internals;

/**
 * Confluent's wire format: byte 0 the magic byte 0, bytes 1–4 the schema id (big-endian int), then
 * the Avro binary encoding of the record.
 */
public final class WireFormat {

    public static final byte MAGIC_BYTE = 0;
    public static final int HEADER_SIZE = 5;

    private WireFormat() {
    }

    /** Writes the header into the first {@link #HEADER_SIZE} bytes of {@code target}. */
    public static void writeHeader(byte[] target, int schemaId) {
        target[0] = MAGIC_BYTE;
        target[1] = (byte) (schemaId >>> 24);
        target[2] = (byte) (schemaId >>> 16);
        target[3] = (byte) (schemaId >>> 8);
        target[4] = (byte) schemaId;
    }

    /** The schema id of a payload whose header has been checked to be present. */
    public static int schemaId(byte[] payload) {
        return (payload[1] & 0xff) << 24 | (payload[2] & 0xff) << 16 | (payload[3] & 0xff) << 8 | payload[4] & 0xff;
    }
}
