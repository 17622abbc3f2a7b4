package dev.hardmine.registry;

import java.util.Map;

import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * {@link AvroSerializer} and {@link AvroDeserializer} of one record type, sharing one registry client.
 *
 * <pre>{@code
 * // in code: ready to use
 * var serde = new AvroSerde<>(EmbeddingBatch.class, SerdeConfig.of("http://127.0.0.1:8081"), false);
 * // from Kafka configuration: construct, then configure
 * var serde = new AvroSerde<>(EmbeddingBatch.class);
 * serde.configure(Map.of("schema.registry.url", "mock://test"), false);
 * }</pre>
 *
 * @param <T> the record type
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {

    private final Class<T> type;
    private AvroSerializer<T> serializer;
    private AvroDeserializer<T> deserializer;
    private SchemaRegistryClient ownedClient;

    /** For Kafka's reflective construction: the class follows from the writer schema; {@link #configure} must follow. */
    public AvroSerde() {
        this.type = null;
    }

    /** A serde of {@code type}; {@link #configure} must follow. */
    public AvroSerde(Class<T> type) {
        this.type = type;
    }

    /** A ready serde of {@code type} with a client of its own, built from {@code config}; closed with the serde. */
    public AvroSerde(Class<T> type, SerdeConfig config, boolean isKey) {
        this(type, SchemaRegistryClient.create(config.client()), config, isKey, true);
    }

    /** A ready serde of {@code type} over a shared client (not closed by the serde). */
    public AvroSerde(Class<T> type, SchemaRegistryClient client, SerdeConfig config, boolean isKey) {
        this(type, client, config, isKey, false);
    }

    private AvroSerde(Class<T> type, SchemaRegistryClient client, SerdeConfig config, boolean isKey, boolean owned) {
        this.type = type;
        this.serializer = new AvroSerializer<>(client, config, isKey);
        this.deserializer = new AvroDeserializer<>(type, client);
        this.ownedClient = owned ? client : null;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        SerdeConfig config = SerdeConfig.fromMap(configs);
        close();
        ownedClient = SchemaRegistryClient.create(config.client());
        serializer = new AvroSerializer<>(ownedClient, config, isKey);
        deserializer = new AvroDeserializer<>(type, ownedClient);
    }

    /** {@link AvroSerializer#prepare} of this serde's type for {@code topic}. */
    public void prepare(String topic) {
        requireConfigured();
        if (type == null) {
            throw new IllegalStateException("AvroSerde without a type cannot prepare a topic");
        }
        serializer.prepare(topic, SpecificData.get().getSchema(type));
    }

    @Override
    public Serializer<T> serializer() {
        requireConfigured();
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        requireConfigured();
        return deserializer;
    }

    @Override
    public void close() {
        if (ownedClient != null) {
            ownedClient.close();
            ownedClient = null;
        }
    }

    private void requireConfigured() {
        if (serializer == null) {
            throw new IllegalStateException("AvroSerde is not configured: call configure() or use a typed constructor");
        }
    }
}
