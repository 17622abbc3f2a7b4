package dev.hardmine.registry.internals;

import dev.hardmine.registry.SchemaRegistryException;
import org.apache.avro.Schema;
import org.apache.avro.AvroRuntimeException;

/**
 * An Avro schema with the text that identifies it in the registry.
 *
 * <p>The identity is Avro's own JSON rendering of the parsed schema ({@link Schema#toString()}):
 * whitespace, attribute order and {@code "string"} vs {@code {"type":"string"}} disappear, so the same
 * schema sent by Python's {@code json.dumps} (with spaces) and by Node's {@code JSON.stringify}
 * (without) gets one id. Avro's <em>parsing canonical form</em> alone is not used as the identity:
 * it also drops defaults, logical types and aliases, so a schema that only adds a default, or
 * {@code long} vs {@code timestamp-millis}, would silently share an id and a version with a schema
 * that means something else. This is what Confluent's registry compares too (without
 * {@code normalize=true}).
 */
public record ParsedSchema(Schema schema, String canonical) {

    /** Parses and validates a schema as sent to the registry; 422 / 42201 when it is not one. */
    public static ParsedSchema parse(String text) {
        if (text == null || text.isBlank()) {
            throw invalid("Empty schema");
        }
        try {
            Schema schema = new Schema.Parser().parse(text);
            return new ParsedSchema(schema, schema.toString());
        } catch (AvroRuntimeException e) {
            throw invalid("Invalid schema " + abbreviate(text) + ", details: " + e.getMessage());
        } catch (RuntimeException e) {
            // Jackson and NumberFormat failures of malformed JSON inside the parser
            throw invalid("Invalid schema " + abbreviate(text) + ", details: " + e);
        }
    }

    /** Wraps an already parsed schema. */
    public static ParsedSchema of(Schema schema) {
        return new ParsedSchema(schema, schema.toString());
    }

    private static SchemaRegistryException invalid(String message) {
        return new SchemaRegistryException(422, SchemaRegistryException.INVALID_SCHEMA, message);
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "…";
    }
}
