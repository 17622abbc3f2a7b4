package dev.hardmine.registry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import dev.hardmine.registry.internals.PortableSchema;
import dev.hardmine.registry.internals.WireFormat;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka {@link Serializer} of Avro specific records in Confluent's wire format.
 *
 * <p>The first record of a schema on a topic costs one registry call (register, or look up when
 * {@code auto.register.schemas=false}); later records of that schema only look up a map. The schema
 * registered is the generated class's without the Java-only {@code avro.java.string} properties, so
 * it is the same schema (and id) as the {@code .avsc} that non-Java clients register. With
 * {@code use.latest.version=true} the record is written with the subject's latest schema (which
 * must be able to read the record's own schema), as Confluent's serializer does.
 *
 * <p>Either construct it ready to use ({@link #AvroSerializer(SchemaRegistryClient, SerdeConfig, boolean)})
 * or let Kafka construct it and call {@link #configure(Map, boolean)}. Thread-safe once configured.
 *
 * @param <T> the record type
 */
public final class AvroSerializer<T extends SpecificRecord> implements Serializer<T> {

    /** How records of one schema are written on one topic. */
    private record Writer(int schemaId, DatumWriter<Object> datumWriter, Conversion conversion) {
    }

    /** Rewrites a record of one schema into another (for {@code use.latest.version}). */
    private record Conversion(GenericDatumReader<Object> reader) {
    }

    private SchemaRegistryClient client;
    private SerdeConfig config;
    private boolean isKey;
    private boolean ownsClient;
    /** A latest schema of a subject and the schema of the records written with it. */
    private record LatestKey(int latestId, Schema recordSchema) {
    }

    private final ConcurrentHashMap<String, ConcurrentHashMap<Schema, Writer>> writersByTopic = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<LatestKey, Writer> latestWriters = new ConcurrentHashMap<>();

    /** For Kafka's reflective construction; {@link #configure} must follow. */
    public AvroSerializer() {
    }

    /**
     * A ready serializer.
     *
     * @param client the registry (not closed by {@link #close()})
     * @param config subject naming and registration settings ({@link SerdeConfig#client()} is not used)
     * @param isKey  whether it serializes keys (subject {@code <topic>-key}) or values
     */
    public AvroSerializer(SchemaRegistryClient client, SerdeConfig config, boolean isKey) {
        this.client = Objects.requireNonNull(client, "client");
        this.config = Objects.requireNonNull(config, "config");
        this.isKey = isKey;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.config = SerdeConfig.fromMap(configs);
        this.client = SchemaRegistryClient.create(config.client());
        this.ownsClient = true;
        this.isKey = isKey;
    }

    /**
     * Registers (or, without auto-registration, looks up) {@code schema} for {@code topic} now, so
     * that serializing its records later asks the registry nothing: a service that must go on
     * writing while the registry is away prepares each topic it writes before it starts.
     *
     * @throws SchemaRegistryException when the registry fails ({@link SchemaRegistryException#isRetriable()}
     *                                 tells whether to try again)
     */
    public void prepare(String topic, Schema schema) {
        try {
            writer(topic, schema);
        } catch (SerializationException e) {
            if (e.getCause() instanceof SchemaRegistryException registryFailure) {
                throw registryFailure;
            }
            throw e;
        }
    }

    @Override
    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null;
        }
        if (client == null) {
            throw new IllegalStateException("AvroSerializer is not configured: call configure() or use the typed constructor");
        }
        Writer writer = writer(topic, record.getSchema());
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.write(new byte[WireFormat.HEADER_SIZE], 0, WireFormat.HEADER_SIZE);
        try {
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            Object datum = writer.conversion() == null ? record : convert(record, writer);
            writer.datumWriter().write(datum, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("Cannot write " + record.getSchema().getFullName() + " for topic " + topic
                    + " with schema id " + writer.schemaId() + ": " + e.getMessage(), e);
        }
        byte[] bytes = out.toByteArray();
        WireFormat.writeHeader(bytes, writer.schemaId());
        return bytes;
    }

    private Writer writer(String topic, Schema schema) {
        if (config.useLatestVersion()) {
            // Not cached here: the client's latest-version cache decides how long "latest" holds.
            RegisteredSchema latest = latest(topic, schema);
            return latestWriters.computeIfAbsent(new LatestKey(latest.id(), schema), k -> latestWriter(latest, schema));
        }
        ConcurrentHashMap<Schema, Writer> writers = writersByTopic.get(topic);
        if (writers == null) {
            writers = writersByTopic.computeIfAbsent(topic, t -> new ConcurrentHashMap<>());
        }
        Writer writer = writers.get(schema);
        if (writer == null) {
            // Outside computeIfAbsent: the registry call may take seconds and must not block other schemas.
            writer = new Writer(schemaId(topic, schema), new SpecificDatumWriter<>(schema, SpecificData.getForSchema(schema)), null);
            Writer raced = writers.putIfAbsent(schema, writer);
            writer = raced != null ? raced : writer;
        }
        return writer;
    }

    private int schemaId(String topic, Schema schema) {
        String subject = config.subjectNameStrategy(isKey).subject(topic, isKey, schema);
        Schema portable = PortableSchema.of(schema);
        try {
            return config.autoRegisterSchemas() ? client.register(subject, portable) : lookup(subject, portable, schema);
        } catch (SchemaRegistryException e) {
            throw new SerializationException((config.autoRegisterSchemas() ? "Error registering" : "Error looking up")
                    + " Avro schema " + schema.getFullName() + " under subject " + subject + ": " + e.getMessage(), e);
        }
    }

    /** Finds the portable schema, or else the class's own (as Confluent's Java serializer registers it by default). */
    private int lookup(String subject, Schema portable, Schema own) {
        try {
            return client.lookup(subject, portable).id();
        } catch (SchemaRegistryException e) {
            if (portable == own || e.errorCode() != SchemaRegistryException.SCHEMA_NOT_FOUND) {
                throw e;
            }
            return client.lookup(subject, own).id();
        }
    }

    private RegisteredSchema latest(String topic, Schema schema) {
        String subject = config.subjectNameStrategy(isKey).subject(topic, isKey, schema);
        try {
            return client.getLatestVersion(subject);
        } catch (SchemaRegistryException e) {
            throw new SerializationException("Error fetching the latest schema of subject " + subject + ": " + e.getMessage(), e);
        }
    }

    private static Writer latestWriter(RegisteredSchema latest, Schema recordSchema) {
        Schema target = latest.schema();
        if (target.equals(PortableSchema.of(recordSchema))) {
            return new Writer(latest.id(), new SpecificDatumWriter<>(recordSchema, SpecificData.getForSchema(recordSchema)), null);
        }
        var compatibility = SchemaCompatibility.checkReaderWriterCompatibility(target, recordSchema);
        if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            throw new SerializationException("The latest schema (id " + latest.id() + ") of subject " + latest.subject()
                    + " cannot represent records of " + recordSchema.getFullName() + ": " + compatibility.getDescription());
        }
        GenericData generic = new GenericData();
        return new Writer(latest.id(), new GenericDatumWriter<>(target, generic),
                new Conversion(new GenericDatumReader<>(recordSchema, target, generic)));
    }

    /** Re-reads the record's own encoding as the target schema: exact for every compatible change. */
    private static Object convert(SpecificRecord record, Writer writer) throws IOException {
        Schema own = record.getSchema();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(buffer, null);
        new SpecificDatumWriter<>(own, SpecificData.getForSchema(own)).write(record, encoder);
        encoder.flush();
        try {
            return writer.conversion().reader().read(null, DecoderFactory.get().binaryDecoder(buffer.toByteArray(), null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (ownsClient && client != null) {
            client.close();
        }
    }
}
