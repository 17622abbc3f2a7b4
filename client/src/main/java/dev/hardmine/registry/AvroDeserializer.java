package dev.hardmine.registry;

import java.io.EOFException;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import dev.hardmine.registry.internals.WireFormat;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Kafka {@link Deserializer} of Avro specific records in Confluent's wire format.
 *
 * <p>The writer schema is fetched by the id in the payload's header (once per id); the reader
 * schema is the generated class's, and Avro's schema resolution bridges the two, so records written
 * with an older compatible schema (a field added since, with a default) read correctly. Without a
 * class given, the class is the one generated for the writer schema's full name.
 *
 * <p>A payload that cannot be decoded raises a {@link WireFormatException} whose
 * {@link WireFormatException#reason() reason()} says why: {@code bad-magic-byte}, {@code truncated},
 * {@code unknown-schema-id} or {@code avro-decode}. A registry that cannot be reached raises the
 * {@link SchemaRegistryException} instead (the record may well be valid). Thread-safe once configured.
 *
 * @param <T> the record type
 */
public final class AvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {

    private final Class<T> type;
    private SchemaRegistryClient client;
    private boolean ownsClient;
    private final ConcurrentHashMap<Integer, SpecificDatumReader<T>> readersById = new ConcurrentHashMap<>();

    /** For Kafka's reflective construction: the class follows from the writer schema; {@link #configure} must follow. */
    public AvroDeserializer() {
        this.type = null;
    }

    /** A deserializer of {@code type}; {@link #configure} must follow. */
    public AvroDeserializer(Class<T> type) {
        this.type = Objects.requireNonNull(type, "type");
    }

    /**
     * A ready deserializer of {@code type}.
     *
     * @param type   the generated class to read into, or null to pick it from the writer schema
     * @param client the registry (not closed by {@link #close()})
     */
    public AvroDeserializer(Class<T> type, SchemaRegistryClient client) {
        this.type = type;
        this.client = Objects.requireNonNull(client, "client");
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.client = SchemaRegistryClient.create(SerdeConfig.fromMap(configs).client());
        this.ownsClient = true;
    }

    @Override
    public T deserialize(String topic, byte[] payload) {
        if (payload == null) {
            return null;
        }
        if (client == null) {
            throw new IllegalStateException("AvroDeserializer is not configured: call configure() or use the typed constructor");
        }
        if (payload.length > 0 && payload[0] != WireFormat.MAGIC_BYTE) {
            throw new BadMagicByteException(payload[0]);
        }
        if (payload.length < WireFormat.HEADER_SIZE) {
            throw new TruncatedPayloadException("Payload of " + payload.length + " bytes is shorter than the "
                    + WireFormat.HEADER_SIZE + "-byte schema registry header", payload.length, null);
        }
        int schemaId = WireFormat.schemaId(payload);
        SpecificDatumReader<T> reader = reader(schemaId);
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(payload, WireFormat.HEADER_SIZE,
                payload.length - WireFormat.HEADER_SIZE, null);
        T record;
        try {
            record = reader.read(null, decoder);
        } catch (EOFException e) {
            throw new TruncatedPayloadException("Avro body of " + (payload.length - WireFormat.HEADER_SIZE)
                    + " bytes ends before the record (schema id " + schemaId + ")", payload.length, e);
        } catch (Exception e) {
            throw new AvroDecodeException(schemaId, "Cannot decode the Avro body with schema id " + schemaId + ": " + e, e);
        }
        try {
            if (!decoder.isEnd()) {
                throw new AvroDecodeException(schemaId, "Bytes left over after the record: the body was not written with schema id "
                        + schemaId, null);
            }
        } catch (IOException e) {
            throw new AvroDecodeException(schemaId, "Cannot decode the Avro body with schema id " + schemaId + ": " + e, e);
        }
        return record;
    }

    private SpecificDatumReader<T> reader(int schemaId) {
        SpecificDatumReader<T> reader = readersById.get(schemaId);
        if (reader != null) {
            return reader;
        }
        Schema writer;
        try {
            writer = client.getSchemaById(schemaId);
        } catch (SchemaRegistryException e) {
            if (e.httpStatus() == 404) {
                throw new UnknownSchemaIdException(schemaId, e);
            }
            throw e;
        }
        reader = newReader(schemaId, writer);
        SpecificDatumReader<T> raced = readersById.putIfAbsent(schemaId, reader);
        return raced != null ? raced : reader;
    }

    @SuppressWarnings("unchecked")
    private SpecificDatumReader<T> newReader(int schemaId, Schema writer) {
        Class<?> target = type;
        if (target == null) {
            target = SpecificData.get().getClass(writer);
            if (target == null || !SpecificRecord.class.isAssignableFrom(target)) {
                throw new AvroDecodeException(schemaId, "No generated class for writer schema " + writer.getFullName()
                        + " (id " + schemaId + ") on the classpath", null);
            }
        }
        SpecificData model = SpecificData.getForClass(target);
        Schema readerSchema = model.getSchema(target);
        var compatibility = SchemaCompatibility.checkReaderWriterCompatibility(readerSchema, writer);
        if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            throw new AvroDecodeException(schemaId, "Writer schema id " + schemaId + " (" + writer.getFullName()
                    + ") cannot be read as " + readerSchema.getFullName() + ": " + compatibility.getDescription(), null);
        }
        return new SpecificDatumReader<>(writer, readerSchema, model);
    }

    @Override
    public void close() {
        if (ownsClient && client != null) {
            client.close();
        }
    }
}
