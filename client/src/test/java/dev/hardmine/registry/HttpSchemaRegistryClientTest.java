package dev.hardmine.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.avro.EmbeddingBatch;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class HttpSchemaRegistryClientTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema SCHEMA = EmbeddingBatch.getClassSchema();

    private final ScriptedHttpServer server;

    HttpSchemaRegistryClientTest() throws Exception {
        server = new ScriptedHttpServer();
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    /** Fast retries so that tests stay short: 2 retries, 10 ms then 20 ms. */
    private RegistryClientConfig config(String urls) {
        return RegistryClientConfig.of(urls)
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2))
                .withRetries(2, Duration.ofMillis(10), Duration.ofMillis(50));
    }

    private SchemaRegistryClient client() {
        return SchemaRegistryClient.create(config(server.url()));
    }

    private static String schemaJson(Schema schema) throws Exception {
        return JSON.writeValueAsString(schema.toString());
    }

    @Test
    void registersWithOnePostAndAnswersRepeatsFromItsCache() throws Exception {
        server.answer(200, "{\"id\":7}");
        SchemaRegistryClient client = client();

        assertThat(client.register("t-value", SCHEMA)).isEqualTo(7);
        assertThat(client.register("t-value", SCHEMA)).isEqualTo(7);

        assertThat(server.requests()).singleElement().satisfies(r -> {
            assertThat(r.method()).isEqualTo("POST");
            assertThat(r.path()).isEqualTo("/subjects/t-value/versions");
            assertThat(r.contentType()).isEqualTo("application/vnd.schemaregistry.v1+json");
            assertThat(JSON.readTree(r.body()).get("schema").asText()).isEqualTo(SCHEMA.toString());
        });
    }

    @Test
    void registersOnceWhenManyThreadsAskForTheSameNewSchemaAtOnce() throws Exception {
        server.answerAfter(Duration.ofMillis(200), 200, "{\"id\":3}");
        SchemaRegistryClient client = client();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> ids = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                ids.add(threads.submit(() -> client.register("t-value", SCHEMA)));
            }
            for (Future<Integer> id : ids) {
                assertThat(id.get(10, TimeUnit.SECONDS)).isEqualTo(3);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void knowsTheSchemaOfAnIdItRegisteredWithoutAsking() {
        server.answer(200, "{\"id\":7}");
        SchemaRegistryClient client = client();
        client.register("t-value", SCHEMA);

        assertThat(client.getSchemaById(7)).isEqualTo(SCHEMA);
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void fetchesASchemaByIdOnce() throws Exception {
        server.answer(200, "{\"schema\":" + schemaJson(SCHEMA) + "}");
        SchemaRegistryClient client = client();

        assertThat(client.getSchemaById(3)).isEqualTo(SCHEMA);
        assertThat(client.getSchemaById(3)).isEqualTo(SCHEMA);

        assertThat(server.requests()).singleElement().satisfies(r -> {
            assertThat(r.method()).isEqualTo("GET");
            assertThat(r.path()).isEqualTo("/schemas/ids/3");
        });
    }

    @Test
    void readsTheLatestVersionOfASubject() throws Exception {
        server.answer(200, "{\"subject\":\"t-value\",\"id\":7,\"version\":3,\"schema\":" + schemaJson(SCHEMA) + "}");

        RegisteredSchema latest = client().getLatestVersion("t-value");

        assertThat(latest).isEqualTo(new RegisteredSchema("t-value", 7, 3, SCHEMA));
        assertThat(server.requests().get(0).path()).isEqualTo("/subjects/t-value/versions/latest");
    }

    @Test
    void looksUpASchemaUnderASubject() throws Exception {
        server.answer(200, "{\"subject\":\"t-value\",\"id\":7,\"version\":2,\"schema\":" + schemaJson(SCHEMA) + "}");

        RegisteredSchema found = client().lookup("t-value", SCHEMA);

        assertThat(found.id()).isEqualTo(7);
        assertThat(found.version()).isEqualTo(2);
        assertThat(server.requests().get(0).method()).isEqualTo("POST");
        assertThat(server.requests().get(0).path()).isEqualTo("/subjects/t-value");
    }

    @Test
    void asksForCompatibilityAgainstTheLatestVersion() {
        server.answer(200, "{\"is_compatible\":false}");

        assertThat(client().testCompatibility("t-value", SCHEMA)).isFalse();
        assertThat(server.requests().get(0).path()).isEqualTo("/compatibility/subjects/t-value/versions/latest");
    }

    @Test
    void retriesA503AndReturnsTheAnswerThatFollows() {
        server.answer(503, "{\"error_code\":50003,\"message\":\"Error while forwarding the request to the primary\"}")
                .answer(200, "{\"id\":11}");

        assertThat(client().register("t-value", SCHEMA)).isEqualTo(11);
        assertThat(server.requests()).hasSize(2);
    }

    @Test
    void doesNotRetryA401AndReportsItsErrorCodeAndMessage() {
        server.answer(401, "{\"error_code\":40101,\"message\":\"Unauthorized\"}").answer(200, "{\"id\":1}");

        assertThatThrownBy(() -> client().register("t-value", SCHEMA))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(401);
                    assertThat(e.errorCode()).isEqualTo(40101);
                    assertThat(e.getMessage()).isEqualTo("Unauthorized");
                    assertThat(e.isRetriable()).isFalse();
                });
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void reportsA404WithConfluentsErrorCodeWithoutRetrying() {
        server.answer(404, "{\"error_code\":40403,\"message\":\"Schema 9 not found\"}");

        assertThatThrownBy(() -> client().getSchemaById(9))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(404);
                    assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SCHEMA_NOT_FOUND);
                });
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void givesUpAfterTheConfiguredRetriesOnRepeated5xx() {
        for (int i = 0; i < 4; i++) {
            server.answer(500, "{\"error_code\":50001,\"message\":\"Error in the backend data store\"}");
        }

        assertThatThrownBy(() -> client().register("t-value", SCHEMA))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(500);
                    assertThat(e.errorCode()).isEqualTo(50001);
                    assertThat(e.getMessage()).contains("gave up after 3 attempts");
                });
        assertThat(server.requests()).hasSize(3);
    }

    @Test
    void boundsEachAttemptByTheRequestTimeout() {
        server.answerAfter(Duration.ofSeconds(3), 200, "{\"id\":1}").answerAfter(Duration.ofSeconds(3), 200, "{\"id\":1}");
        RegistryClientConfig slowServer = config(server.url())
                .withTimeouts(Duration.ofSeconds(1), Duration.ofMillis(300))
                .withRetries(1, Duration.ofMillis(10), Duration.ofMillis(10));
        long start = System.nanoTime();

        assertThatThrownBy(() -> SchemaRegistryClient.create(slowServer).register("t-value", SCHEMA))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(SchemaRegistryException.NO_RESPONSE);
                    assertThat(e.getMessage()).contains("timed out");
                });
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2_000));
        assertThat(server.requests()).hasSize(2);
    }

    @Test
    void retriesARefusedConnectionThenReportsThatNoAnswerCame() throws Exception {
        long start = System.nanoTime();

        assertThatThrownBy(() -> SchemaRegistryClient.create(config(closedPortUrl())).getSchemaById(1))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(SchemaRegistryException.NO_RESPONSE);
                    assertThat(e.isRetriable()).isTrue();
                    assertThat(e.getMessage()).contains("gave up after 3 attempts");
                });
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void movesToTheNextUrlWhenOneCannotBeReached() throws Exception {
        server.answer(200, "{\"id\":5}");

        SchemaRegistryClient client = SchemaRegistryClient.create(config(closedPortUrl() + "," + server.url()));

        assertThat(client.register("t-value", SCHEMA)).isEqualTo(5);
    }

    @Test
    void sendsBasicCredentials() {
        server.answer(200, "{\"id\":1}");
        RegistryClientConfig withUser = config(server.url()).withCredentials(RegistryCredentials.basicUserInfo("alice:pw:1"));

        SchemaRegistryClient.create(withUser).register("t-value", SCHEMA);

        String expected = "Basic " + Base64.getEncoder().encodeToString("alice:pw:1".getBytes(StandardCharsets.UTF_8));
        assertThat(server.requests().get(0).authorization()).isEqualTo(expected);
    }

    @Test
    void sendsABearerToken() {
        server.answer(200, "{\"id\":1}");
        RegistryClientConfig withToken = config(server.url()).withCredentials(RegistryCredentials.bearer("tok-123"));

        SchemaRegistryClient.create(withToken).register("t-value", SCHEMA);

        assertThat(server.requests().get(0).authorization()).isEqualTo("Bearer tok-123");
    }

    @Test
    void sendsNoCredentialsUnlessConfigured() {
        server.answer(200, "{\"id\":1}");

        client().register("t-value", SCHEMA);

        assertThat(server.requests().get(0).authorization()).isNull();
    }

    @Test
    void escapesTheSubjectInThePath() {
        server.answer(200, "{\"id\":1}");

        client().register("team a/t-value", SCHEMA);

        assertThat(server.requests().get(0).path()).isEqualTo("/subjects/team%20a%2Ft-value/versions");
    }

    @Test
    void reportsAnErrorWithoutAJsonBodyByItsStatus() {
        server.answer(400, "<html>Bad Request</html>");

        assertThatThrownBy(() -> client().register("t-value", SCHEMA))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(400);
                    assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.NO_ERROR_CODE);
                });
    }

    @Test
    void cachesTheLatestVersionForItsTimeToLive() throws Exception {
        String answer = "{\"subject\":\"t-value\",\"id\":7,\"version\":3,\"schema\":" + schemaJson(SCHEMA) + "}";
        server.answer(200, answer).answer(200, answer);
        SchemaRegistryClient forever = SchemaRegistryClient.create(config(server.url()));
        forever.getLatestVersion("t-value");
        forever.getLatestVersion("t-value");
        assertThat(server.requests()).hasSize(1);

        SchemaRegistryClient uncached = SchemaRegistryClient.create(config(server.url()).withLatestCacheTtl(Duration.ZERO));
        uncached.getLatestVersion("t-value");
        assertThat(server.requests()).hasSize(2);
    }

    /** A URL on 127.0.0.1 where nothing listens. */
    private static String closedPortUrl() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = socket.getLocalPort();
        }
        return "http://127.0.0.1:" + port;
    }
}
