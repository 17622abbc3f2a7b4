package dev.hardmine.registry.internals;

import java.io.IOException;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.avro.Schema;

/**
 * The schema a Java class should register: its generated {@code SCHEMA$} without the Java-only
 * {@code "avro.java.string": "String"} properties the Avro compiler adds. Those change nothing on
 * the wire, but left in they make the Java schema differ from the {@code .avsc} that Python and
 * Node clients register, so the same schema would get a second id and version (Confluent's
 * serializer offers the same with {@code avro.remove.java.properties}).
 */
public final class PortableSchema {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JAVA_STRING_PROPERTY = "avro.java.string";

    private PortableSchema() {
    }

    /** {@code schema} without Java-only properties; the same instance when it has none. */
    public static Schema of(Schema schema) {
        String text = schema.toString();
        if (!text.contains(JAVA_STRING_PROPERTY)) {
            return schema;
        }
        try {
            JsonNode json = JSON.readTree(text);
            strip(json);
            return new Schema.Parser().parse(json.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes the property everywhere; Avro's parser then reads {"type":"string"} as plain "string". */
    private static void strip(JsonNode node) {
        if (node instanceof ObjectNode object) {
            object.remove(JAVA_STRING_PROPERTY);
        }
        if (node != null) {
            node.forEach(PortableSchema::strip);
        }
    }
}
