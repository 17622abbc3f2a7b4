package dev.hardmine.registry.internals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hardmine.registry.Compatibility;

/**
 * The record format of Confluent's {@code _schemas} topic, so that the topic reads the same to
 * Confluent's tools. Keys and values are JSON:
 * <pre>
 * {"keytype":"SCHEMA","subject":"s","version":1,"magic":1} → {"subject":"s","version":1,"id":7,"schema":"…","deleted":false}
 * {"keytype":"CONFIG","subject":null,"magic":0}            → {"compatibilityLevel":"BACKWARD"}
 * </pre>
 * A null value (tombstone) on a SCHEMA key removes that version. Other key types (NOOP, MODE,
 * DELETE_SUBJECT…) are skipped.
 */
final class SchemasTopicCodec {

    private static final ObjectMapper JSON = new ObjectMapper();

    private SchemasTopicCodec() {
    }

    static byte[] key(LogEntry entry) {
        ObjectNode key = JSON.createObjectNode();
        if (entry instanceof LogEntry.SchemaVersion v) {
            key.put("keytype", "SCHEMA").put("subject", v.subject()).put("version", v.version()).put("magic", 1);
        } else if (entry instanceof LogEntry.Config c) {
            key.put("keytype", "CONFIG").put("subject", c.subject()).put("magic", 0);
        } else if (entry instanceof LogEntry.SchemaVersionRemoved r) {
            key.put("keytype", "SCHEMA").put("subject", r.subject()).put("version", r.version()).put("magic", 1);
        }
        return bytes(key);
    }

    static byte[] value(LogEntry entry) {
        if (entry instanceof LogEntry.SchemaVersion v) {
            return bytes(JSON.createObjectNode().put("subject", v.subject()).put("version", v.version())
                    .put("id", v.id()).put("schema", v.schema()).put("deleted", v.deleted()));
        } else if (entry instanceof LogEntry.Config c) {
            ObjectNode value = JSON.createObjectNode();
            if (c.subject() != null) {
                value.put("subject", c.subject());
            }
            return bytes(value.put("compatibilityLevel", c.compatibility().name()));
        }
        return null;
    }

    /** The entry a record holds, or empty for records this registry does not use. */
    static Optional<LogEntry> decode(byte[] keyBytes, byte[] valueBytes) throws IOException {
        JsonNode key = JSON.readTree(keyBytes);
        String type = key.path("keytype").asText("");
        String subject = key.hasNonNull("subject") ? key.get("subject").asText() : null;
        switch (type) {
            case "SCHEMA": {
                int version = key.path("version").asInt();
                if (valueBytes == null) {
                    return Optional.of(new LogEntry.SchemaVersionRemoved(subject, version));
                }
                JsonNode value = JSON.readTree(valueBytes);
                String schemaType = value.path("schemaType").asText("AVRO");
                if (!"AVRO".equals(schemaType)) {
                    return Optional.empty();
                }
                return Optional.of(new LogEntry.SchemaVersion(value.path("subject").asText(subject),
                        value.path("version").asInt(version), value.path("id").asInt(),
                        value.path("schema").asText(), value.path("deleted").asBoolean(false)));
            }
            case "CONFIG": {
                if (valueBytes == null) {
                    return Optional.empty();
                }
                JsonNode value = JSON.readTree(valueBytes);
                return Optional.of(new LogEntry.Config(subject, Compatibility.parse(value.path("compatibilityLevel").asText())));
            }
            default:
                return Optional.empty();
        }
    }

    private static byte[] bytes(JsonNode node) {
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }
}
