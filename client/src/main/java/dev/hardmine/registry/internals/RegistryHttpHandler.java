package dev.hardmine.registry.internals;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.hardmine.registry.Compatibility;
import dev.hardmine.registry.RegisteredSchema;
import dev.hardmine.registry.SchemaRegistryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Confluent's REST API over a {@link SchemaStore}: the subset that Confluent's Java, Python and Node
 * clients call to register, look up and fetch schemas and to read and set compatibility.
 *
 * <pre>
 * GET  /                                              {}
 * GET  /schemas/types                                 ["AVRO"]
 * GET  /schemas/ids/{id}                              {"schema": "..."}
 * GET  /subjects                                      ["s1", ...]
 * POST /subjects/{s}                                  lookup → {"subject","id","version","schema"}
 * GET  /subjects/{s}/versions                         [1, 2, ...]
 * POST /subjects/{s}/versions                         register → {"id": n}
 * GET  /subjects/{s}/versions/{v|latest}              {"subject","id","version","schema"}
 * GET  /subjects/{s}/versions/{v|latest}/schema       the schema itself
 * GET  /config, PUT /config                           {"compatibilityLevel": L} / {"compatibility": L}
 * GET  /config/{s}, PUT /config/{s}                   404 / 40408 when the subject has no level of its own
 *                                                     (unless ?defaultToGlobal=true)
 * POST /compatibility/subjects/{s}/versions/{v|latest}  {"is_compatible": bool} (+ "messages" with ?verbose=true)
 * </pre>
 * Request bodies are parsed as JSON whatever their content type; answers are
 * {@code application/vnd.schemaregistry.v1+json}; errors are {@code {"error_code": int, "message": str}}.
 * Only Avro schemas (no {@code schemaType}, or {@code "AVRO"}) and no schema references are accepted.
 */
public final class RegistryHttpHandler implements HttpHandler {

    private static final Logger log = LoggerFactory.getLogger(RegistryHttpHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Response(int status, JsonNode body) {
    }

    private final SchemaStore store;

    public RegistryHttpHandler(SchemaStore store) {
        this.store = store;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        Response response;
        try {
            response = route(exchange.getRequestMethod(), segments(exchange.getRequestURI().getRawPath()),
                    query(exchange.getRequestURI().getRawQuery()), exchange.getRequestBody());
        } catch (SchemaRegistryException e) {
            response = error(e.httpStatus(), e.errorCode(), e.getMessage());
        } catch (JsonProcessingException e) {
            response = error(400, 400, "Malformed JSON body: " + e.getOriginalMessage());
        } catch (RuntimeException e) {
            log.error("Schema registry request {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            response = error(500, 50001, "Internal error: " + e);
        }
        byte[] body = response.body().toString().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", HttpSchemaRegistryClient.CONTENT_TYPE);
        exchange.sendResponseHeaders(response.status(), body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private Response route(String method, List<String> path, Map<String, String> query, InputStream body) throws IOException {
        int n = path.size();
        String root = n == 0 ? "" : path.get(0);
        switch (root) {
            case "" -> {
                allow(method, "GET");
                return ok(JSON.createObjectNode());
            }
            case "schemas" -> {
                if (n == 2 && "types".equals(path.get(1))) {
                    allow(method, "GET");
                    return ok(JSON.createArrayNode().add("AVRO"));
                }
                if (n == 3 && "ids".equals(path.get(1))) {
                    allow(method, "GET");
                    int id = parseId(path.get(2));
                    return ok(JSON.createObjectNode().put("schema", store.schemaById(id).toString()));
                }
            }
            case "subjects" -> {
                if (n == 1) {
                    allow(method, "GET");
                    ArrayNode subjects = JSON.createArrayNode();
                    store.subjects().forEach(subjects::add);
                    return ok(subjects);
                }
                String subject = path.get(1);
                if (n == 2) {
                    allow(method, "POST");
                    return ok(registered(store.lookup(subject, schemaText(body))));
                }
                if ("versions".equals(path.get(2))) {
                    if (n == 3) {
                        if ("POST".equals(method)) {
                            RegisteredSchema registered = store.register(subject, schemaText(body));
                            return ok(JSON.createObjectNode().put("id", registered.id()));
                        }
                        allow(method, "GET");
                        ArrayNode versions = JSON.createArrayNode();
                        store.versions(subject).forEach(versions::add);
                        return ok(versions);
                    }
                    if (n == 4) {
                        allow(method, "GET");
                        return ok(registered(store.version(subject, path.get(3))));
                    }
                    if (n == 5 && "schema".equals(path.get(4))) {
                        allow(method, "GET");
                        return ok(JSON.readTree(store.version(subject, path.get(3)).schema().toString()));
                    }
                }
            }
            case "config" -> {
                if (n == 1) {
                    if ("PUT".equals(method)) {
                        Compatibility level = store.setGlobalCompatibility(compatibility(body));
                        return ok(JSON.createObjectNode().put("compatibility", level.name()));
                    }
                    allow(method, "GET");
                    return ok(JSON.createObjectNode().put("compatibilityLevel", store.globalCompatibility().name()));
                }
                if (n == 2) {
                    String subject = path.get(1);
                    if ("PUT".equals(method)) {
                        Compatibility level = store.setSubjectCompatibility(subject, compatibility(body));
                        return ok(JSON.createObjectNode().put("compatibility", level.name()));
                    }
                    allow(method, "GET");
                    Compatibility level = store.subjectCompatibility(subject)
                            .or(() -> "true".equalsIgnoreCase(query.get("defaultToGlobal"))
                                    ? java.util.Optional.of(store.globalCompatibility()) : java.util.Optional.empty())
                            .orElseThrow(() -> new SchemaRegistryException(404, SchemaRegistryException.SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
                                    "Subject '" + subject + "' does not have subject-level compatibility configured"));
                    return ok(JSON.createObjectNode().put("compatibilityLevel", level.name()));
                }
            }
            case "compatibility" -> {
                if (n == 5 && "subjects".equals(path.get(1)) && "versions".equals(path.get(3))) {
                    allow(method, "POST");
                    SchemaStore.CompatibilityResult result = store.testCompatibility(path.get(2), path.get(4), schemaText(body));
                    ObjectNode answer = JSON.createObjectNode().put("is_compatible", result.compatible());
                    if ("true".equalsIgnoreCase(query.get("verbose"))) {
                        ArrayNode messages = answer.putArray("messages");
                        result.messages().forEach(messages::add);
                    }
                    return ok(answer);
                }
            }
            default -> {
                // falls through to 404 below
            }
        }
        return error(404, 404, "HTTP 404 Not Found: " + String.join("/", path));
    }

    private static ObjectNode registered(RegisteredSchema r) {
        return JSON.createObjectNode().put("subject", r.subject()).put("version", r.version())
                .put("id", r.id()).put("schema", r.schema().toString());
    }

    /** The {@code schema} of a register, lookup or compatibility body; Avro only, no references. */
    private static String schemaText(InputStream body) throws IOException {
        JsonNode json = readJson(body);
        String type = json.path("schemaType").asText("AVRO");
        if (!"AVRO".equalsIgnoreCase(type)) {
            throw new SchemaRegistryException(422, SchemaRegistryException.INVALID_SCHEMA,
                    "Unsupported schema type " + type + ": this registry stores Avro schemas only");
        }
        JsonNode references = json.get("references");
        if (references != null && references.isArray() && !references.isEmpty()) {
            throw new SchemaRegistryException(422, SchemaRegistryException.INVALID_SCHEMA,
                    "Schema references are not supported by this registry");
        }
        JsonNode schema = json.get("schema");
        if (schema == null || !schema.isTextual()) {
            throw new SchemaRegistryException(422, SchemaRegistryException.INVALID_SCHEMA, "Empty schema: the body needs a \"schema\" string");
        }
        return schema.asText();
    }

    private static Compatibility compatibility(InputStream body) throws IOException {
        JsonNode json = readJson(body);
        JsonNode level = json.has("compatibility") ? json.get("compatibility") : json.get("compatibilityLevel");
        return Compatibility.parse(level == null ? null : level.asText());
    }

    private static JsonNode readJson(InputStream body) throws IOException {
        JsonNode json = JSON.readTree(body.readAllBytes());
        if (json == null || !json.isObject()) {
            throw new SchemaRegistryException(422, 422, "The request body must be a JSON object");
        }
        return json;
    }

    private static int parseId(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new SchemaRegistryException(404, SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema " + text + " not found");
        }
    }

    private static void allow(String method, String allowed) {
        if (!allowed.equals(method)) {
            throw new SchemaRegistryException(405, 405, "HTTP 405 Method Not Allowed: " + method + " (this path takes " + allowed + ")");
        }
    }

    private static Response ok(JsonNode body) {
        return new Response(200, body);
    }

    private static Response error(int status, int code, String message) {
        return new Response(status, JSON.createObjectNode().put("error_code", code).put("message", message));
    }

    private static List<String> segments(String rawPath) {
        List<String> segments = new ArrayList<>();
        for (String s : rawPath.split("/")) {
            if (!s.isEmpty()) {
                segments.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
            }
        }
        return segments;
    }

    private static Map<String, String> query(String rawQuery) {
        Map<String, String> params = new HashMap<>();
        if (rawQuery != null) {
            for (String pair : rawQuery.split("&")) {
                int eq = pair.indexOf('=');
                String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                params.put(key, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return params;
    }
}
