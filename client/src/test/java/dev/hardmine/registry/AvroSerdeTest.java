package dev.hardmine.registry;

import static dev.hardmine.registry.TestRecords.embeddingBatch;
import static dev.hardmine.registry.TestRecords.floats;
import static dev.hardmine.registry.TestRecords.minedBatch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {

    private static final String TOPIC = "hardmine.embeddings";

    private final String scope = "serde-test-" + UUID.randomUUID();
    private final SchemaRegistryClient registry = MockSchemaRegistry.scope(scope);
    private final SerdeConfig config = SerdeConfig.of("mock://" + scope);

    @AfterEach
    void dropRegistry() {
        MockSchemaRegistry.dropScope(scope);
    }

    private AvroSerde<EmbeddingBatch> embeddingSerde() {
        return new AvroSerde<>(EmbeddingBatch.class, registry, config, false);
    }

    @Test
    void aPreparedTopicIsWrittenWithoutAskingTheRegistryAgain() throws Exception {
        ScriptedHttpServer server = new ScriptedHttpServer(); // after the one answer below: 500s
        try (server; var serde = new AvroSerde<>(EmbeddingBatch.class, SerdeConfig.of(server.url())
                .withClient(RegistryClientConfig.of(server.url()).withRetries(0, Duration.ZERO, Duration.ZERO)), false)) {
            server.answer(200, "{\"id\":5}");
            serde.prepare(TOPIC);

            byte[] bytes = serde.serializer().serialize(TOPIC, embeddingBatch());

            assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(5);
            assertThat(server.requests()).singleElement().satisfies(r -> assertThat(r.path())
                    .isEqualTo("/subjects/" + TOPIC + "-value/versions"));
            assertThatThrownBy(() -> serde.prepare("another.topic")).as("a registry that fails: its own exception")
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isRetriable()).isTrue());
        }
    }

    @Test
    void roundTripsAnEmbeddingBatch() {
        try (var serde = embeddingSerde()) {
            byte[] bytes = serde.serializer().serialize(TOPIC, embeddingBatch());

            EmbeddingBatch read = serde.deserializer().deserialize(TOPIC, bytes);

            assertThat(read).isEqualTo(embeddingBatch());
            assertThat(read.getProducedAt()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_123L));
            assertThat(read.getSamples().get(1).getEmbedding()).isEqualTo(floats(0.25f, 2.0f));
        }
    }

    @Test
    void framesTheAvroBodyWithMagicByteZeroAndTheBigEndianSchemaId() throws Exception {
        // Push the next id to 258 = 0x00000102 so that the id's byte order shows.
        for (int i = 1; i <= 257; i++) {
            registry.register("filler-" + i, Schema.createFixed("F" + i, null, "filler", 1));
        }
        byte[] bytes;
        try (var serde = embeddingSerde()) {
            bytes = serde.serializer().serialize(TOPIC, embeddingBatch());
        }

        assertThat(Arrays.copyOfRange(bytes, 0, 5)).containsExactly(0, 0, 0, 1, 2);
        assertThat(registry.getLatestVersion(TOPIC + "-value").id()).isEqualTo(258);
        assertThat(Arrays.copyOfRange(bytes, 5, bytes.length)).isEqualTo(plainAvro(embeddingBatch()));
    }

    @Test
    void registersValuesUnderTopicValueAndKeysUnderTopicKeyByDefault() {
        try (var values = embeddingSerde(); var keys = new AvroSerde<>(EmbeddingBatch.class, registry, config, true)) {
            values.serializer().serialize(TOPIC, embeddingBatch());
            keys.serializer().serialize(TOPIC, embeddingBatch());
        }

        assertThat(registry.getLatestVersion("hardmine.embeddings-value").schema().getFullName()).isEqualTo("dev.hardmine.avro.EmbeddingBatch");
        assertThat(registry.getLatestVersion("hardmine.embeddings-key").version()).isEqualTo(1);
    }

    @Test
    void registersUnderTheRecordsFullNameWithRecordNameStrategy() {
        SerdeConfig byRecordName = config.withValueSubjectNameStrategy(SubjectNameStrategy.RECORD_NAME);
        try (var serde = new AvroSerde<>(MinedBatch.class, registry, byRecordName, false)) {
            serde.serializer().serialize("hardmine.mined", minedBatch());
        }

        assertThat(registry.getLatestVersion("dev.hardmine.avro.MinedBatch").version()).isEqualTo(1);
    }

    @Test
    void registersTheSchemaWithoutJavaOnlyStringProperties() throws Exception {
        int idOfTheAvscFile = registry.register("from-python-value", TestRecords.avsc("EmbeddingBatch"));

        try (var serde = embeddingSerde()) {
            byte[] bytes = serde.serializer().serialize(TOPIC, embeddingBatch());
            assertThat(java.nio.ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(idOfTheAvscFile);
        }
        assertThat(registry.getLatestVersion(TOPIC + "-value").schema().toString()).doesNotContain("avro.java.string");
    }

    @Test
    void readsARecordWrittenWithAnOlderSchemaFillingTheAddedFieldsDefault() throws Exception {
        Schema v1 = TestRecords.withoutField(EmbeddingBatch.getClassSchema(), "model_version");
        int v1Id = registry.register(TOPIC + "-value", v1);
        GenericRecord old = new GenericData.Record(v1);
        old.put("job_id", "job-1");
        old.put("worker_id", "worker-0");
        old.put("batch_id", "batch-1");
        old.put("step", 5L);
        old.put("produced_at", 1_700_000_000_000L);
        old.put("dim", 1);
        Schema sampleSchema = v1.getField("samples").schema().getElementType();
        GenericRecord sample = new GenericData.Record(sampleSchema);
        sample.put("sample_id", "s1");
        sample.put("label", "cat");
        sample.put("embedding", floats(1.5f));
        old.put("samples", new GenericData.Array<>(v1.getField("samples").schema(), List.of(sample)));

        EmbeddingBatch read;
        try (var serde = embeddingSerde()) {
            read = serde.deserializer().deserialize(TOPIC, frame(v1Id, genericAvro(v1, old)));
        }

        assertThat(read.getModelVersion()).isEmpty();
        assertThat(read.getBatchId()).isEqualTo("batch-1");
        assertThat(read.getStep()).isEqualTo(5L);
        assertThat(read.getProducedAt()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));
        assertThat(read.getSamples()).hasSize(1);
        assertThat(read.getSamples().get(0).getEmbedding()).isEqualTo(floats(1.5f));
    }

    @Test
    void rejectsAnUnknownSchemaIdAsUnknownSchemaId() {
        byte[] payload = frame(999, plainAvro(embeddingBatch()));

        try (var serde = embeddingSerde()) {
            assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, payload))
                    .isInstanceOfSatisfying(UnknownSchemaIdException.class, e -> {
                        assertThat(e.reason()).isEqualTo("unknown-schema-id");
                        assertThat(e.schemaId()).isEqualTo(999);
                    });
        }
    }

    @Test
    void rejectsAPayloadShorterThanTheHeaderAsTruncated() {
        try (var serde = embeddingSerde()) {
            assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, new byte[] {0, 0, 1}))
                    .isInstanceOfSatisfying(TruncatedPayloadException.class, e -> {
                        assertThat(e.reason()).isEqualTo("truncated");
                        assertThat(e.length()).isEqualTo(3);
                    });
        }
    }

    @Test
    void rejectsAnAvroBodyCutShortAsTruncated() {
        try (var serde = embeddingSerde()) {
            byte[] whole = serde.serializer().serialize(TOPIC, embeddingBatch());
            byte[] cut = Arrays.copyOf(whole, whole.length - 3);

            assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, cut))
                    .isInstanceOf(TruncatedPayloadException.class);
        }
    }

    @Test
    void rejectsAWrongFirstByteAsBadMagicByte() {
        try (var serde = embeddingSerde()) {
            byte[] payload = serde.serializer().serialize(TOPIC, embeddingBatch());
            payload[0] = 1;

            assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, payload))
                    .isInstanceOfSatisfying(BadMagicByteException.class, e -> {
                        assertThat(e.reason()).isEqualTo("bad-magic-byte");
                        assertThat(e.magicByte()).isEqualTo((byte) 1);
                    });
        }
    }

    @Test
    void rejectsPlainJsonAsBadMagicByte() {
        byte[] json = "{\"job_id\":\"job-1\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (var serde = embeddingSerde()) {
            assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, json)).isInstanceOf(BadMagicByteException.class);
        }
    }

    @Test
    void rejectsBytesLeftOverAfterTheRecordAsAvroDecode() {
        try (var serde = embeddingSerde()) {
            byte[] whole = serde.serializer().serialize(TOPIC, embeddingBatch());
            byte[] padded = Arrays.copyOf(whole, whole.length + 2);

            assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, padded))
                    .isInstanceOfSatisfying(AvroDecodeException.class, e -> assertThat(e.reason()).isEqualTo("avro-decode"));
        }
    }

    @Test
    void rejectsARecordOfAnotherTypeAsAvroDecode() {
        int minedId = registry.register("other-value", MinedBatch.getClassSchema());
        byte[] payload = frame(minedId, plainAvro(minedBatch()));

        try (var serde = embeddingSerde()) {
            assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, payload))
                    .isInstanceOf(AvroDecodeException.class)
                    .hasMessageContaining("cannot be read as dev.hardmine.avro.EmbeddingBatch");
        }
    }

    @Test
    void givesEachDecodingFailureItsOwnReason() {
        assertThat(List.of(UnknownSchemaIdException.REASON, TruncatedPayloadException.REASON,
                BadMagicByteException.REASON, AvroDecodeException.REASON, MalformedKeyException.REASON))
                .doesNotHaveDuplicates()
                .containsExactly("unknown-schema-id", "truncated", "bad-magic-byte", "avro-decode", "bad-key-encoding");
    }

    @Test
    void decodingFailuresAreKafkaSerializationExceptions() {
        try (var serde = embeddingSerde()) {
            assertThatThrownBy(() -> serde.deserializer().deserialize(TOPIC, new byte[] {7}))
                    .isInstanceOf(SerializationException.class)
                    .isInstanceOf(WireFormatException.class);
        }
    }

    @Test
    void keepsNullAsNullBothWays() {
        try (var serde = embeddingSerde()) {
            assertThat(serde.serializer().serialize(TOPIC, null)).isNull();
            assertThat(serde.deserializer().deserialize(TOPIC, null)).isNull();
        }
    }

    @Test
    void refusesToWriteASchemaNotRegisteredWhenAutoRegistrationIsOff() {
        try (var serde = new AvroSerde<>(EmbeddingBatch.class, registry, config.withAutoRegisterSchemas(false), false)) {
            assertThatThrownBy(() -> serde.serializer().serialize(TOPIC, embeddingBatch()))
                    .isInstanceOf(SerializationException.class)
                    .hasCauseInstanceOf(SchemaRegistryException.class);
        }
    }

    @Test
    void writesWithTheIdOfTheRegisteredAvscWhenAutoRegistrationIsOff() throws Exception {
        int id = registry.register(TOPIC + "-value", TestRecords.avsc("EmbeddingBatch"));
        try (var serde = new AvroSerde<>(EmbeddingBatch.class, registry, config.withAutoRegisterSchemas(false), false)) {
            byte[] bytes = serde.serializer().serialize(TOPIC, embeddingBatch());

            assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(id);
        }
    }

    @Test
    void findsTheSchemaAsConfluentsJavaSerializerRegistersItWhenAutoRegistrationIsOff() {
        int id = registry.register(TOPIC + "-value", EmbeddingBatch.getClassSchema());
        try (var serde = new AvroSerde<>(EmbeddingBatch.class, registry, config.withAutoRegisterSchemas(false), false)) {
            byte[] bytes = serde.serializer().serialize(TOPIC, embeddingBatch());

            assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(id);
        }
    }

    @Test
    void writesWithTheSubjectsLatestSchemaWhenUseLatestVersionIsOn() throws Exception {
        registry.register(TOPIC + "-value", EmbeddingBatch.getClassSchema());
        Schema v2 = TestRecords.withStringField(EmbeddingBatch.getClassSchema(), "host", "unknown");
        int v2Id = registry.register(TOPIC + "-value", v2);
        SerdeConfig latest = config.withAutoRegisterSchemas(false).withUseLatestVersion(true);

        try (var serde = new AvroSerde<>(EmbeddingBatch.class, registry, latest, false)) {
            byte[] bytes = serde.serializer().serialize(TOPIC, embeddingBatch());

            assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(v2Id);
            assertThat(serde.deserializer().deserialize(TOPIC, bytes)).isEqualTo(embeddingBatch());
        }
    }

    @Test
    void isConfiguredFromAKafkaStyleMap() {
        try (var serde = new AvroSerde<>(EmbeddingBatch.class)) {
            serde.configure(Map.of("schema.registry.url", "mock://" + scope), false);

            byte[] bytes = serde.serializer().serialize(TOPIC, embeddingBatch());

            assertThat(serde.deserializer().deserialize(TOPIC, bytes)).isEqualTo(embeddingBatch());
            assertThat(registry.getLatestVersion(TOPIC + "-value").version()).isEqualTo(1);
        }
    }

    @Test
    void readsIntoTheClassNamedByTheWriterSchemaWhenNoClassIsGiven() {
        byte[] bytes;
        try (var serde = embeddingSerde()) {
            bytes = serde.serializer().serialize(TOPIC, embeddingBatch());
        }
        var untyped = new AvroDeserializer<>();
        untyped.configure(Map.of("schema.registry.url", "mock://" + scope), false);

        assertThat(untyped.deserialize(TOPIC, bytes)).isEqualTo(embeddingBatch());
    }

    @Test
    void failsClearlyWhenUsedBeforeConfiguration() {
        assertThatThrownBy(() -> new AvroSerde<>(EmbeddingBatch.class).serializer())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("configure");
    }

    static byte[] frame(int schemaId, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(schemaId).put(body).array();
    }

    static byte[] plainAvro(org.apache.avro.specific.SpecificRecord record) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
            new SpecificDatumWriter<>(record.getSchema(), SpecificData.getForSchema(record.getSchema())).write(record, encoder);
            encoder.flush();
            return out.toByteArray();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static byte[] genericAvro(Schema schema, GenericRecord record) throws java.io.IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }
}
