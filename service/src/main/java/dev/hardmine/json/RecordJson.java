package dev.hardmine.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.IndexedRecord;

/**
 * An Avro record as JSON, driven by its schema, so that a field added to a schema appears in every
 * JSON form of its records: the JSON lines of replay and the answers and events of the HTTP API.
 *
 * <p>Fields in schema order, under the schema's names; records as objects, arrays as arrays, maps as
 * objects; {@code timestamp-millis} as epoch milliseconds; {@code float} and {@code double} as
 * Jackson writes them ({@code Float.toString}, {@code Double.toString}; NaN and infinities as
 * strings); a null of a union as {@code null}. {@code bytes} (and {@code fixed}) are hardmine's
 * embeddings: little-endian float32 values, written as an array of numbers.
 *
 * <p>Use {@link #write} on a streaming generator, or put {@link #of} into a Jackson tree
 * ({@code ObjectNode.putPOJO}, {@code ArrayNode.addPOJO}): both write the same bytes.
 */
public final class RecordJson implements JsonSerializable {
    private final IndexedRecord record;
    private final Set<String> leftOut;

    private RecordJson(IndexedRecord record, Set<String> leftOut) {
        this.record = record;
        this.leftOut = leftOut;
    }

    /** The record as a value of a Jackson tree. */
    public static RecordJson of(IndexedRecord record) {
        return new RecordJson(record, Set.of());
    }

    /** The record without some of its top-level fields (where the context already says them). */
    public static RecordJson without(IndexedRecord record, String... fields) {
        return new RecordJson(record, Set.of(fields));
    }

    /** Writes the record as one JSON object. */
    public static void write(JsonGenerator g, IndexedRecord record) throws IOException {
        writeRecord(g, record, Set.of());
    }

    @Override
    public void serialize(JsonGenerator g, SerializerProvider serializers) throws IOException {
        writeRecord(g, record, leftOut);
    }

    @Override
    public void serializeWithType(JsonGenerator g, SerializerProvider serializers, TypeSerializer typeSer)
            throws IOException {
        serialize(g, serializers);
    }

    private static void writeRecord(JsonGenerator g, IndexedRecord record, Set<String> leftOut) throws IOException {
        g.writeStartObject();
        for (Schema.Field f : record.getSchema().getFields()) {
            if (!leftOut.contains(f.name())) {
                g.writeFieldName(f.name());
                writeValue(g, f.schema(), record.get(f.pos()));
            }
        }
        g.writeEndObject();
    }

    private static void writeValue(JsonGenerator g, Schema schema, Object value) throws IOException {
        switch (schema.getType()) {
            case RECORD -> writeRecord(g, (IndexedRecord) value, Set.of());
            case ARRAY -> {
                g.writeStartArray();
                for (Object item : (Collection<?>) value) {
                    writeValue(g, schema.getElementType(), item);
                }
                g.writeEndArray();
            }
            case MAP -> {
                g.writeStartObject();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                    g.writeFieldName(e.getKey().toString());
                    writeValue(g, schema.getValueType(), e.getValue());
                }
                g.writeEndObject();
            }
            case UNION -> {
                if (value == null) {
                    g.writeNull();
                } else {
                    writeValue(g, branchOf(schema, value), value);
                }
            }
            case STRING, ENUM -> g.writeString(value.toString());
            case BYTES -> writeFloats(g, (ByteBuffer) value);
            case FIXED -> writeFloats(g, ByteBuffer.wrap(((GenericFixed) value).bytes()));
            case INT -> g.writeNumber(((Number) value).intValue());
            case LONG -> g.writeNumber(value instanceof Instant t ? epoch(schema.getLogicalType(), t)
                    : ((Number) value).longValue());
            case FLOAT -> g.writeNumber(((Number) value).floatValue());
            case DOUBLE -> g.writeNumber(((Number) value).doubleValue());
            case BOOLEAN -> g.writeBoolean((Boolean) value);
            case NULL -> g.writeNull();
        }
    }

    /** The branch of a union a non-null value takes: the only non-null one of {@code ["null", T]}. */
    private static Schema branchOf(Schema union, Object value) {
        List<Schema> types = union.getTypes();
        if (types.size() == 2 && types.get(0).getType() == Schema.Type.NULL) {
            return types.get(1);
        }
        if (types.size() == 2 && types.get(1).getType() == Schema.Type.NULL) {
            return types.get(0);
        }
        return types.get(GenericData.get().resolveUnion(union, value));
    }

    private static long epoch(LogicalType type, Instant t) {
        return type instanceof LogicalTypes.TimestampMicros || type instanceof LogicalTypes.LocalTimestampMicros
                ? ChronoUnit.MICROS.between(Instant.EPOCH, t) : t.toEpochMilli();
    }

    private static void writeFloats(JsonGenerator g, ByteBuffer littleEndian) throws IOException {
        FloatBuffer values = littleEndian.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        g.writeStartArray();
        while (values.hasRemaining()) {
            g.writeNumber(values.get());
        }
        g.writeEndArray();
    }
}
