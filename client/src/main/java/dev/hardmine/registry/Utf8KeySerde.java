package dev.hardmine.registry;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Record keys as plain UTF-8 strings (no registry header), as Confluent-compatible producers write
 * them. Unlike Kafka's {@code StringDeserializer}, invalid UTF-8 is not replaced with U+FFFD but
 * rejected with a {@link MalformedKeyException}, so that a garbled job id cannot silently become
 * another job's key. Null stays null. Stateless and thread-safe.
 */
public final class Utf8KeySerde implements Serde<String> {

    private static final Serializer<String> SERIALIZER = (topic, key) -> key == null ? null : key.getBytes(StandardCharsets.UTF_8);

    private static final Deserializer<String> DESERIALIZER = (topic, bytes) -> {
        if (bytes == null) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new MalformedKeyException("Record key of " + bytes.length + " bytes on " + topic + " is not valid UTF-8", e);
        }
    };

    @Override
    public Serializer<String> serializer() {
        return SERIALIZER;
    }

    @Override
    public Deserializer<String> deserializer() {
        return DESERIALIZER;
    }
}
