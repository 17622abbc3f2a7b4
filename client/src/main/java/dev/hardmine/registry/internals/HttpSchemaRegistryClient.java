package dev.hardmine.registry.internals;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLPeerUnverifiedException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hardmine.registry.RegisteredSchema;
import dev.hardmine.registry.RegistryClientConfig;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SchemaRegistryException;
import dev.hardmine.retry.Backoff;
import org.apache.avro.Schema;

/**
 * {@link SchemaRegistryClient} over Confluent's REST API, with {@link HttpClient}.
 *
 * <p>Each attempt is bounded by the connect and request timeouts; connection errors, timeouts and
 * 5xx answers are retried up to {@code maxRetries} times with exponential backoff and jitter,
 * moving to the next URL when several are configured; 4xx answers are final. TLS trusts the
 * certificates of {@link RegistryClientConfig#tls()} (by default the JVM's trust store) and checks
 * the host name.
 */
public final class HttpSchemaRegistryClient implements SchemaRegistryClient {

    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final String ACCEPT = "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private record SubjectSchema(String subject, Schema schema) {
    }

    private record Latest(RegisteredSchema schema, long fetchedAtNanos) {
    }

    private final RegistryClientConfig config;
    private final List<URI> baseUris;
    private final HttpClient http;
    private final String authorization;
    /** Between attempts: doubling within the configured range, up to 20 % shorter at random. */
    private final Backoff backoff;
    private final AtomicInteger currentUri = new AtomicInteger();

    private final OnceCache<SubjectSchema, Integer> idBySubjectSchema = new OnceCache<>();
    private final OnceCache<SubjectSchema, RegisteredSchema> versionBySubjectSchema = new OnceCache<>();
    private final OnceCache<Integer, Schema> schemaById = new OnceCache<>();
    private final ConcurrentHashMap<String, Latest> latestBySubject = new ConcurrentHashMap<>();

    public HttpSchemaRegistryClient(RegistryClientConfig config) {
        if (config.isMock()) {
            throw new IllegalArgumentException("mock:// URLs are served in-process, not over HTTP: " + config.urls());
        }
        this.config = config;
        this.baseUris = config.urls().stream().map(URI::create).toList();
        this.authorization = config.credentials().authorizationHeader().orElse(null);
        this.backoff = Backoff.doubling(config.retryBackoff(), config.maxRetryBackoff()).withJitter(0.2);
        HttpClient.Builder http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER);
        config.tls().sslContext().ifPresent(http::sslContext);
        this.http = http.build();
    }

    @Override
    public int register(String subject, Schema schema) {
        return idBySubjectSchema.get(new SubjectSchema(subject, schema), key -> {
            JsonNode answer = send("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema));
            int id = requireField(answer, "id").asInt();
            schemaById.put(id, schema);
            return id;
        });
    }

    @Override
    public RegisteredSchema lookup(String subject, Schema schema) {
        RegisteredSchema found = versionBySubjectSchema.get(new SubjectSchema(subject, schema), key -> {
            JsonNode answer = send("POST", "/subjects/" + encode(subject), schemaBody(schema));
            int id = requireField(answer, "id").asInt();
            schemaById.put(id, schema);
            return new RegisteredSchema(subject, id, requireField(answer, "version").asInt(), schema);
        });
        idBySubjectSchema.put(new SubjectSchema(subject, schema), found.id());
        return found;
    }

    @Override
    public Schema getSchemaById(int id) {
        return schemaById.get(id, key -> parse(requireField(send("GET", "/schemas/ids/" + id, null), "schema").asText()));
    }

    @Override
    public RegisteredSchema getLatestVersion(String subject) {
        Duration ttl = config.latestCacheTtl();
        Latest cached = latestBySubject.get(subject);
        if (cached != null && (ttl.isNegative() || System.nanoTime() - cached.fetchedAtNanos() < ttl.toNanos())) {
            return cached.schema();
        }
        JsonNode answer = send("GET", "/subjects/" + encode(subject) + "/versions/latest", null);
        int id = requireField(answer, "id").asInt();
        Schema schema = schemaById.get(id, key -> parse(requireField(answer, "schema").asText()));
        RegisteredSchema latest = new RegisteredSchema(subject, id, requireField(answer, "version").asInt(), schema);
        if (!ttl.isZero()) {
            latestBySubject.put(subject, new Latest(latest, System.nanoTime()));
        }
        return latest;
    }

    @Override
    public boolean testCompatibility(String subject, Schema schema) {
        try {
            JsonNode answer = send("POST", "/compatibility/subjects/" + encode(subject) + "/versions/latest", schemaBody(schema));
            return requireField(answer, "is_compatible").asBoolean();
        } catch (SchemaRegistryException e) {
            // Older registries answer 404 for a subject without versions: anything is compatible then.
            if (e.errorCode() == SchemaRegistryException.SUBJECT_NOT_FOUND) {
                return true;
            }
            throw e;
        }
    }

    // ---------------------------------------------------------------- HTTP

    private JsonNode send(String method, String path, ObjectNode body) {
        int attempts = config.maxRetries() + 1;
        SchemaRegistryException last = null;
        for (int attempt = 0; attempt < attempts; attempt++) {
            if (attempt > 0) {
                sleep(backoff.delay(attempt));
            }
            URI base = baseUris.get(Math.floorMod(currentUri.get(), baseUris.size()));
            try {
                return sendOnce(base, method, path, body);
            } catch (SchemaRegistryException e) {
                if (!e.isRetriable()) {
                    throw e;
                }
                last = e;
                currentUri.incrementAndGet();
            }
        }
        throw new SchemaRegistryException(last.httpStatus(), last.errorCode(),
                last.getMessage() + " (gave up after " + attempts + " attempts)", last);
    }

    private JsonNode sendOnce(URI base, String method, String path, ObjectNode body) {
        URI uri = URI.create(base.toString() + path);
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .timeout(config.requestTimeout())
                .header("Accept", ACCEPT);
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (body != null) {
            request.header("Content-Type", CONTENT_TYPE)
                    .method(method, HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<byte[]> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (HttpTimeoutException e) {
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE, SchemaRegistryException.NO_ERROR_CODE,
                    method + " " + uri + " timed out: " + e.getMessage(), e);
        } catch (IOException e) {
            if (certificateRejected(e)) {
                // A configuration fault (trust store, host name), not an outage: retrying only delays the error.
                throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE, SchemaRegistryException.NO_ERROR_CODE,
                        method + " " + uri + " failed, the registry's TLS certificate was rejected: " + e, e, false);
            }
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE, SchemaRegistryException.NO_ERROR_CODE,
                    method + " " + uri + (e instanceof ConnectException ? " could not connect: " : " failed: ") + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE, SchemaRegistryException.NO_ERROR_CODE,
                    method + " " + uri + " interrupted", e);
        }
        int status = response.statusCode();
        JsonNode json = parseJson(response.body());
        if (status >= 200 && status < 300) {
            if (json == null) {
                throw new SchemaRegistryException(status, SchemaRegistryException.NO_ERROR_CODE,
                        method + " " + uri + " answered " + status + " without a JSON body");
            }
            return json;
        }
        int errorCode = json != null && json.path("error_code").isInt() ? json.get("error_code").asInt() : SchemaRegistryException.NO_ERROR_CODE;
        String message = json != null && json.hasNonNull("message") ? json.get("message").asText()
                : "HTTP " + status + " from " + method + " " + uri;
        throw new SchemaRegistryException(status, errorCode, message);
    }

    /** Whether the TLS handshake failed on the registry's certificate (not trusted, or not for this host). */
    private static boolean certificateRejected(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateException || t instanceof SSLPeerUnverifiedException) {
                return true;
            }
        }
        return false;
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE, SchemaRegistryException.NO_ERROR_CODE,
                    "interrupted while waiting to retry", e);
        }
    }

    private static ObjectNode schemaBody(Schema schema) {
        return JSON.createObjectNode().put("schema", schema.toString());
    }

    private static JsonNode parseJson(byte[] body) {
        if (body == null || body.length == 0) {
            return null;
        }
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    private static JsonNode requireField(JsonNode answer, String field) {
        JsonNode value = answer.get(field);
        if (value == null || value.isNull()) {
            throw new SchemaRegistryException(200, SchemaRegistryException.NO_ERROR_CODE,
                    "The registry's answer lacks \"" + field + "\": " + answer);
        }
        return value;
    }

    private static Schema parse(String text) {
        try {
            return new Schema.Parser().parse(text);
        } catch (RuntimeException e) {
            throw new SchemaRegistryException(200, SchemaRegistryException.INVALID_SCHEMA,
                    "The registry returned a schema that does not parse: " + e.getMessage(), e);
        }
    }

    static String encode(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public String toString() {
        return "HttpSchemaRegistryClient" + config.urls();
    }
}
