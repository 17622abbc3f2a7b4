package dev.hardmine.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** The embedded registry's REST API, in memory, spoken to as Confluent's clients speak to it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(30)
class EmbeddedSchemaRegistryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final String SIMPLE = "{\"type\":\"record\",\"name\":\"Point\",\"namespace\":\"t\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}";
    private static final String SIMPLE_SPACED = "{ \"type\" : \"record\",\n  \"namespace\": \"t\", \"name\": \"Point\",\n"
            + "  \"fields\": [ { \"name\": \"x\", \"type\": {\"type\": \"int\"} } ] }";

    private EmbeddedSchemaRegistry registry;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private int subjectCounter;

    record Answer(int status, JsonNode body, String contentType) {
        int errorCode() {
            return body.path("error_code").asInt();
        }
    }

    @BeforeAll
    void startRegistry() {
        registry = EmbeddedSchemaRegistry.builder().start();
    }

    @AfterAll
    void stopRegistry() {
        registry.close();
    }

    /** A subject of this test's own, so that tests sharing the registry do not meet. */
    private String subject() {
        return "subject-" + (++subjectCounter) + "-" + System.nanoTime();
    }

    @Test
    void servesOn127001AtAnEphemeralPort() {
        assertThat(registry.url()).isEqualTo("http://127.0.0.1:" + registry.port());
        assertThat(registry.port()).isPositive();
    }

    @Test
    void givesTheSameSchemaWithOrWithoutWhitespaceOneId() throws Exception {
        String subject = subject();
        Answer compact = register(subject, SIMPLE);
        Answer spaced = register(subject, SIMPLE_SPACED);

        assertThat(compact.status()).isEqualTo(200);
        assertThat(spaced.body().get("id")).isEqualTo(compact.body().get("id"));
        assertThat(get("/subjects/" + subject + "/versions").body().toString()).isEqualTo("[1]");
    }

    @Test
    void keepsASchemasIdAcrossSubjects() throws Exception {
        String schema = schemaWithField("shared");
        Answer first = register(subject(), schema);
        Answer second = register(subject(), schema);

        assertThat(second.body().get("id")).isEqualTo(first.body().get("id"));
    }

    @Test
    void givesADifferentSchemaTheNextIdAndTheNextVersion() throws Exception {
        String subject = subject();
        String field = "f" + System.nanoTime(); // a schema no other test registered
        int first = register(subject, schemaWithField(field)).body().get("id").asInt();
        int second = register(subject, schemaWithFieldAndDefault(field, "b")).body().get("id").asInt();

        assertThat(second).isEqualTo(first + 1);
        Answer latest = get("/subjects/" + subject + "/versions/latest");
        assertThat(latest.body().get("version").asInt()).isEqualTo(2);
        assertThat(latest.body().get("id").asInt()).isEqualTo(second);
        assertThat(latest.body().get("subject").asText()).isEqualTo(subject);
        assertThat(JSON.readTree(latest.body().get("schema").asText()).get("fields")).hasSize(2);
    }

    @Test
    void answers409ToAnIncompatibleChangeUnderBackward() throws Exception {
        String subject = subject();
        register(subject, schemaWithField("a"));

        Answer incompatible = register(subject, schemaWithField("b"));

        assertThat(incompatible.status()).isEqualTo(409);
        assertThat(incompatible.errorCode()).isEqualTo(409);
        assertThat(incompatible.body().get("message").asText()).contains("incompatible").contains(subject);
        assertThat(incompatible.contentType()).isEqualTo(CONTENT_TYPE);
    }

    @Test
    void acceptsAnIncompatibleChangeWhenTheSubjectsLevelIsNone() throws Exception {
        String subject = subject();
        register(subject, schemaWithField("a"));
        assertThat(put("/config/" + subject, "{\"compatibility\":\"NONE\"}").body().get("compatibility").asText()).isEqualTo("NONE");

        assertThat(register(subject, schemaWithField("b")).status()).isEqualTo(200);
    }

    @Test
    void answers422With42201ToAnInvalidSchema() throws Exception {
        Answer answer = register(subject(), "{\"type\":\"record\",\"name\":\"Broken\",\"fields\":[{\"name\":\"x\",\"type\":\"nosuchtype\"}]}");

        assertThat(answer.status()).isEqualTo(422);
        assertThat(answer.errorCode()).isEqualTo(42201);
    }

    @Test
    void answers422With42201ToABodyWithoutASchema() throws Exception {
        Answer answer = post("/subjects/" + subject() + "/versions", "{\"schemaType\":\"AVRO\"}", CONTENT_TYPE);

        assertThat(answer.status()).isEqualTo(422);
        assertThat(answer.errorCode()).isEqualTo(42201);
    }

    @Test
    void answers404With40401ForAnUnknownSubject() throws Exception {
        Answer answer = get("/subjects/no-such-subject/versions/latest");

        assertThat(answer.status()).isEqualTo(404);
        assertThat(answer.errorCode()).isEqualTo(40401);
    }

    @Test
    void answers404With40402ForAnUnknownVersion() throws Exception {
        String subject = subject();
        register(subject, SIMPLE);

        Answer answer = get("/subjects/" + subject + "/versions/9");

        assertThat(answer.status()).isEqualTo(404);
        assertThat(answer.errorCode()).isEqualTo(40402);
    }

    @Test
    void answers404With40403ForAnUnknownId() throws Exception {
        Answer answer = get("/schemas/ids/987654");

        assertThat(answer.status()).isEqualTo(404);
        assertThat(answer.errorCode()).isEqualTo(40403);
        assertThat(answer.body().get("message").asText()).isEqualTo("Schema 987654 not found");
    }

    @Test
    void answers404With40403ToALookupOfASchemaTheSubjectDoesNotHave() throws Exception {
        String subject = subject();
        register(subject, schemaWithField("a"));

        Answer answer = post("/subjects/" + subject, body(schemaWithField("zzz")), CONTENT_TYPE);

        assertThat(answer.status()).isEqualTo(404);
        assertThat(answer.errorCode()).isEqualTo(40403);
    }

    @Test
    void answers422With42202ToAVersionThatIsNotOne() throws Exception {
        String subject = subject();
        register(subject, SIMPLE);

        assertThat(get("/subjects/" + subject + "/versions/first").errorCode()).isEqualTo(42202);
    }

    @Test
    void looksUpARegisteredSchemaSentWithOtherWhitespace() throws Exception {
        String subject = subject();
        int id = register(subject, SIMPLE).body().get("id").asInt();

        Answer found = post("/subjects/" + subject, body(SIMPLE_SPACED), CONTENT_TYPE);

        assertThat(found.status()).isEqualTo(200);
        assertThat(found.body().get("id").asInt()).isEqualTo(id);
        assertThat(found.body().get("version").asInt()).isEqualTo(1);
        assertThat(found.body().get("subject").asText()).isEqualTo(subject);
        assertThat(found.body().get("schema").asText()).isEqualTo(SIMPLE);
    }

    @Test
    void servesASchemaByIdAsConfluentShapesIt() throws Exception {
        int id = register(subject(), SIMPLE_SPACED).body().get("id").asInt();

        Answer answer = get("/schemas/ids/" + id);

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.contentType()).isEqualTo(CONTENT_TYPE);
        assertThat(answer.body().toString()).isEqualTo("{\"schema\":" + JSON.writeValueAsString(SIMPLE) + "}");
    }

    @Test
    void listsSubjectsThatHaveVersions() throws Exception {
        String subject = subject();
        register(subject, SIMPLE);

        assertThat(get("/subjects").body()).extracting(JsonNode::asText).contains(subject);
    }

    @Test
    void parsesTheBodyAsJsonWhateverItsContentType() throws Exception {
        Answer answer = post("/subjects/" + subject() + "/versions", body(SIMPLE), "text/plain");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.body().has("id")).isTrue();
    }

    @Test
    void answersSubjectConfigAsTheNodeClientExpects() throws Exception {
        String subject = subject();
        Answer unset = get("/config/" + subject);
        assertThat(unset.status()).isEqualTo(404);
        assertThat(unset.errorCode()).isEqualTo(40408);

        Answer set = put("/config/" + subject, "{\"compatibility\":\"BACKWARD\"}");
        assertThat(set.body().toString()).isEqualTo("{\"compatibility\":\"BACKWARD\"}");

        assertThat(get("/config/" + subject).body().toString()).isEqualTo("{\"compatibilityLevel\":\"BACKWARD\"}");
    }

    @Test
    void fallsBackToTheGlobalLevelWhenAskedTo() throws Exception {
        Answer answer = get("/config/" + subject() + "?defaultToGlobal=true");

        assertThat(answer.body().get("compatibilityLevel").asText()).isEqualTo("BACKWARD");
    }

    @Test
    void answers422With42203ToAnUnknownCompatibilityLevel() throws Exception {
        Answer answer = put("/config/" + subject(), "{\"compatibility\":\"SIDEWAYS\"}");

        assertThat(answer.status()).isEqualTo(422);
        assertThat(answer.errorCode()).isEqualTo(42203);
    }

    @Test
    void testsCompatibilityAgainstTheLatestVersion() throws Exception {
        String subject = subject();
        register(subject, schemaWithField("a"));

        Answer compatible = post("/compatibility/subjects/" + subject + "/versions/latest", body(schemaWithFieldAndDefault("a", "b")), CONTENT_TYPE);
        Answer incompatible = post("/compatibility/subjects/" + subject + "/versions/latest?verbose=true", body(schemaWithField("b")), CONTENT_TYPE);

        assertThat(compatible.body().toString()).isEqualTo("{\"is_compatible\":true}");
        assertThat(incompatible.body().get("is_compatible").asBoolean()).isFalse();
        assertThat(incompatible.body().get("messages")).isNotEmpty();
    }

    @Test
    void answersAnErrorBodyForAnUnknownPath() throws Exception {
        Answer answer = get("/no/such/path");

        assertThat(answer.status()).isEqualTo(404);
        assertThat(answer.body().has("error_code")).isTrue();
        assertThat(answer.body().has("message")).isTrue();
    }

    @Test
    void answers400ToMalformedJson() throws Exception {
        Answer answer = post("/subjects/" + subject() + "/versions", "{\"schema\": ", CONTENT_TYPE);

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.body().has("error_code")).isTrue();
    }

    @Test
    void servesTheSerdeOverHttp() {
        SerdeConfig config = SerdeConfig.of(registry.url());
        try (var serde = new AvroSerde<>(MinedBatch.class, config, false)) {
            byte[] bytes = serde.serializer().serialize("http-serde-topic", TestRecords.minedBatch());

            assertThat(serde.deserializer().deserialize("http-serde-topic", bytes)).isEqualTo(TestRecords.minedBatch());
        }
    }

    @Test
    void givesTheAvscFileAndTheJavaClassOfOneSchemaOneId() throws Exception {
        SchemaRegistryClient client = SchemaRegistryClient.forUrl(registry.url());
        int fromFile = register(subject(), TestRecords.avsc("EmbeddingBatch").toString()).body().get("id").asInt();

        try (var serde = new AvroSerde<>(EmbeddingBatch.class, client, SerdeConfig.of(registry.url()), false)) {
            byte[] bytes = serde.serializer().serialize("avsc-vs-class", TestRecords.embeddingBatch());
            assertThat(java.nio.ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(fromFile);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static String schemaWithField(String field) {
        return "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"t\",\"fields\":[{\"name\":\"" + field + "\",\"type\":\"string\"}]}";
    }

    private static String schemaWithFieldAndDefault(String field, String defaulted) {
        return "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"t\",\"fields\":[{\"name\":\"" + field + "\",\"type\":\"string\"},"
                + "{\"name\":\"" + defaulted + "\",\"type\":\"string\",\"default\":\"\"}]}";
    }

    private static String body(String schema) throws Exception {
        return JSON.createObjectNode().put("schema", schema).toString();
    }

    private Answer register(String subject, String schema) throws Exception {
        return post("/subjects/" + subject + "/versions", body(schema), CONTENT_TYPE);
    }

    private Answer get(String path) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(registry.url() + path)).GET());
    }

    private Answer post(String path, String body, String contentType) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(registry.url() + path))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)));
    }

    private Answer put(String path, String body) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(registry.url() + path))
                .header("Content-Type", CONTENT_TYPE)
                .PUT(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)));
    }

    private Answer send(HttpRequest.Builder request) throws Exception {
        HttpResponse<String> response = http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), JSON.readTree(response.body()),
                response.headers().firstValue("Content-Type").orElse(""));
    }
}
