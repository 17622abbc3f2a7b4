package dev.hardmine.registry;

/** The payload's first byte is not Confluent's magic byte 0: it is not in the registry wire format. */
public final class BadMagicByteException extends WireFormatException {

    /** The {@link #reason()} of this exception. */
    public static final String REASON = "bad-magic-byte";

    private final byte magicByte;

    public BadMagicByteException(byte magicByte) {
        super(String.format("Unknown magic byte 0x%02x: the payload is not in the schema registry wire format", magicByte), null);
        this.magicByte = magicByte;
    }

    /** The first byte found. */
    public byte magicByte() {
        return magicByte;
    }

    @Override
    public String reason() {
        return REASON;
    }
}
