package dev.hardmine.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.cli.HardmineCommand;
import dev.hardmine.client.EmbeddingPublisher;
import dev.hardmine.client.MinedBatchSubscriber;
import dev.hardmine.client.Topics;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.testing.HttpsBasicAuthProxy;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.RunProcess;
import dev.hardmine.testing.SaslSslKafka;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * hardmine on a cluster that asks for SASL/SCRAM over TLS and a registry behind HTTPS with basic
 * credentials, configured with nothing but {@code kafka.*} keys (Kafka's own security settings and
 * Confluent's registry keys): {@code run} as a child process, the Java client, {@code replay
 * --input kafka:…} and the Python example all work; a wrong password fails clearly; and no secret
 * (SCRAM password, trust store password, registry password, HTTP token) appears in {@code run}'s
 * output, with Kafka's own configuration logging on, nor in any answer of the HTTP API.
 */
@ExtendWith(SaslSslKafka.Shared.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(300)
class SaslSslTest {
    private static final String PYTHON = "/usr/bin/python3";
    private static final String REGISTRY_USER = "hardmine";
    private static final String JOB = "sasl-java";
    private static final String WORKER = "rank-0";
    private static final String PYTHON_JOB = "sasl-python";
    private static final int BATCHES = 8;
    private static final int PYTHON_STEPS = 6;
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SaslSslKafka kafka;
    private final Topics topics = Topics.withPrefix("hardmine.");
    private final String registryPassword = "registry-" + UUID.randomUUID();
    private final String httpToken = "token-" + UUID.randomUUID();
    private Path tmp;
    private EmbeddedSchemaRegistry registry;
    private HttpsBasicAuthProxy https;
    private RunProcess run;
    private String apiBase;
    private List<String> published;
    private List<MinedBatch> mined;

    SaslSslTest(SaslSslKafka kafka) {
        this.kafka = kafka;
    }

    @BeforeAll
    void runMinesOnTheSecuredCluster(@TempDir Path tmp) throws Exception {
        this.tmp = tmp;
        registry = EmbeddedSchemaRegistry.builder().start();
        https = HttpsBasicAuthProxy.start(registry.url(), kafka.certificates().serverContext(), REGISTRY_USER, registryPassword);
        Properties properties = LiveMining.properties(topics.embeddings().replace("embeddings", ""),
                kafka.bootstrapServers(), https.url(), Files.createDirectories(tmp.resolve("state")),
                "http.port", "0", "http.token", httpToken);
        kafkaSettings(kafka.password()).forEach((key, value) -> properties.setProperty("kafka." + key, value));
        // Kafka's own configuration logging on: it must mask what it prints.
        Path logback = tmp.resolve("logback-info.xml");
        Files.writeString(logback, """
                <configuration>
                  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
                    <target>System.err</target>
                    <encoder><pattern>%-5level %logger{36} - %msg%n</pattern></encoder>
                  </appender>
                  <logger name="org.apache.kafka" level="INFO"/>
                  <logger name="dev.hardmine" level="INFO"/>
                  <root level="WARN"><appender-ref ref="STDERR"/></root>
                </configuration>
                """);
        run = RunProcess.start(Files.createDirectories(tmp.resolve("run")), properties, topics.embeddings(),
                List.of("-Dlogback.configurationFile=" + logback));
        apiBase = run.output().lines().filter(l -> l.startsWith("hardmine run: http on ")).findFirst()
                .map(l -> l.substring("hardmine run: http on ".length(), l.indexOf(" (")).replaceAll("/$", ""))
                .orElseThrow(() -> new AssertionError("no http line in " + safeOutput()));

        try (MinedBatchSubscriber subscriber = secured(MinedBatchSubscriber.builder(), kafka.password())
                     .jobId(JOB).ownBatchesOf(WORKER).fromBeginning().build();
             EmbeddingPublisher publisher = secured(EmbeddingPublisher.builder(), kafka.password())
                     .jobId(JOB).workerId(WORKER).build()) {
            published = new ArrayList<>();
            for (int step = 0; step < BATCHES; step++) {
                int s = step;
                publisher.publish(step, IntStream.range(0, 8).mapToObj(i -> "s" + s + "-" + i).toList(),
                        IntStream.range(0, 8).mapToObj(i -> "id" + i % 4).toList(),
                        embeddings(step)).get(60, TimeUnit.SECONDS);
                published.add(WORKER + "-" + step);
            }
            mined = awaitMined(subscriber, BATCHES);
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (run != null) {
            run.close();
        }
        if (https != null) {
            https.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    /**
     * What a user writes after {@code kafka.} (or passes to a client as Kafka settings): Kafka's
     * SASL_SSL settings for the user with {@code password}, and Confluent's registry keys.
     */
    private Map<String, String> kafkaSettings(String password) {
        Map<String, String> settings = new LinkedHashMap<>(kafka.clientSettings(SaslSslKafka.USER, password));
        settings.remove("bootstrap.servers");
        settings.put(SerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO");
        settings.put(SerdeConfig.BASIC_AUTH_USER_INFO, REGISTRY_USER + ":" + registryPassword);
        settings.put(SerdeConfig.SSL_TRUSTSTORE_LOCATION, kafka.certificates().truststore().toString());
        settings.put(SerdeConfig.SSL_TRUSTSTORE_PASSWORD, kafka.certificates().password());
        settings.put(SerdeConfig.SSL_TRUSTSTORE_TYPE, "PKCS12");
        return settings;
    }

    private <B extends EmbeddingPublisher.Builder> B secured(B builder, String password) {
        builder.bootstrapServers(kafka.bootstrapServers()).registryUrl(https.url());
        kafkaSettings(password).forEach(builder::kafkaProperty);
        return builder;
    }

    private MinedBatchSubscriber.Builder secured(MinedBatchSubscriber.Builder builder, String password) {
        builder.bootstrapServers(kafka.bootstrapServers()).registryUrl(https.url());
        kafkaSettings(password).forEach(builder::kafkaProperty);
        return builder;
    }

    private static float[][] embeddings(int step) {
        float[][] rows = new float[8][4];
        for (int i = 0; i < rows.length; i++) {
            rows[i][i % 4] = 1f;
            rows[i][(i + step) % 4] += 0.25f * (i / 4 + 1);
        }
        return rows;
    }

    private List<MinedBatch> awaitMined(MinedBatchSubscriber subscriber, int n) {
        List<MinedBatch> got = new ArrayList<>();
        Instant deadline = Instant.now().plus(WAIT);
        while (got.size() < n && Instant.now().isBefore(deadline)) {
            got.addAll(subscriber.poll(Duration.ofMillis(500)));
        }
        assertThat(got).as("mined batches within %s; run said:%n%s", WAIT, safeOutput()).hasSize(n);
        return got;
    }

    /** run's output, for failure messages (it holds no secret: see theSecretsAppearNowhere). */
    private String safeOutput() {
        try {
            return run == null ? "" : run.output();
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    @Order(1)
    void runMinesWhatTheJavaClientPublishesOverSaslSsl() {
        assertThat(mined).extracting(MinedBatch::getBatchId).containsExactlyElementsOf(published);
        assertThat(mined).allSatisfy(b -> assertThat(b.getJobId()).isEqualTo(JOB));
        assertThat(mined.get(BATCHES - 1).getTriplets()).isNotEmpty();
    }

    @Test
    @Order(2)
    void replayReadsTheTopicOverSaslSslWithTheSameSettings() throws Exception {
        Path out = tmp.resolve("replay.jsonl");
        List<String> args = new ArrayList<>(List.of("replay", "--input", "kafka:" + topics.embeddings(),
                "--bootstrap-servers", kafka.bootstrapServers(), "--schema-registry-url", https.url(),
                "--output", out.toString()));
        kafkaSettings(kafka.password()).forEach((key, value) -> args.addAll(List.of("--kafka", key + "=" + value)));

        assertThat(HardmineCommand.commandLine().execute(args.toArray(String[]::new))).isZero();

        List<String> replayed = new ArrayList<>();
        for (String line : Files.readAllLines(out)) {
            JsonNode batch = JSON.readTree(line);
            if (batch.get("job_id").asText().equals(JOB)) {
                replayed.add(batch.get("batch_id").asText());
            }
        }
        assertThat(replayed).containsExactlyElementsOf(published);
    }

    @Test
    @Order(3)
    void aWrongPasswordFailsTheJavaClientWithAnAuthenticationError() {
        String wrong = "wrong-" + UUID.randomUUID();
        try (EmbeddingPublisher publisher = secured(EmbeddingPublisher.builder(), wrong)
                .kafkaProperty("max.block.ms", 20_000).jobId(JOB).workerId("intruder").build()) {
            assertThatThrownBy(() -> publisher.publish(0, List.of("x"), List.of("y"), new float[][] {{1f}})
                    .get(60, TimeUnit.SECONDS))
                    .satisfies(e -> assertThat(e instanceof ExecutionException ? e.getCause() : e)
                            .isInstanceOf(SaslAuthenticationException.class)
                            .hasMessageContaining("invalid credentials")
                            .message().doesNotContain(wrong));
        }
    }

    @Test
    @Order(4)
    void aWrongPasswordStopsRunWithAnAuthenticationError() throws Exception {
        String wrong = "wrong-" + UUID.randomUUID();
        Properties properties = LiveMining.properties("sasl-wrong.", kafka.bootstrapServers(), https.url(),
                Files.createDirectories(tmp.resolve("wrong-state")), "http.port", "0");
        kafkaSettings(wrong).forEach((key, value) -> properties.setProperty("kafka." + key, value));
        try (RunProcess refused = RunProcess.launch(Files.createDirectories(tmp.resolve("wrong")), properties, List.of())) {
            assertThat(refused.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .as("run still running with a wrong password:%n%s", refused.output()).isTrue();
            assertThat(refused.process().exitValue()).isEqualTo(1);
            assertThat(refused.output()).contains("hardmine run: error:", "Authentication failed", "invalid credentials")
                    .doesNotContain(wrong);
        }
    }

    @Test
    @Order(5)
    void aWrongPasswordStopsReplayWithAnAuthenticationError() {
        String wrong = "wrong-" + UUID.randomUUID();
        List<String> args = new ArrayList<>(List.of("replay", "--input", "kafka:" + topics.embeddings(),
                "--bootstrap-servers", kafka.bootstrapServers(), "--schema-registry-url", https.url(),
                "--output", tmp.resolve("refused.jsonl").toString()));
        kafkaSettings(wrong).forEach((key, value) -> args.addAll(List.of("--kafka", key + "=" + value)));
        StringWriter err = new StringWriter();
        var replay = HardmineCommand.commandLine();
        replay.setErr(new PrintWriter(err, true));

        assertThat(replay.execute(args.toArray(String[]::new))).isEqualTo(1);
        assertThat(err.toString()).contains("hardmine replay: error:", "invalid credentials").doesNotContain(wrong);
        assertThat(tmp.resolve("refused.jsonl")).doesNotExist();
    }

    @Test
    @Order(6)
    void thePythonExampleTrainsOverSaslSslWithItsPassthroughSettings() throws Exception {
        Path project = Path.of("").toAbsolutePath().normalize();
        String ca = kafka.certificates().caPem().toString();
        List<String> command = new ArrayList<>(List.of(PYTHON, "examples/python/train.py",
                "--bootstrap", kafka.bootstrapServers(), "--registry", https.url(),
                "--job", PYTHON_JOB, "--steps", "" + PYTHON_STEPS, "--seed", "1",
                "--kafka-config", "security.protocol=SASL_SSL",
                // SASL/PLAIN over the same TLS listener: Debian's librdkafka 2.0.2 cannot do SCRAM with Kafka 4.
                "--kafka-config", "sasl.mechanism=" + SaslSslKafka.PLAIN,
                "--kafka-config", "sasl.username=" + SaslSslKafka.USER,
                "--kafka-config", "sasl.password=" + kafka.password(),
                "--kafka-config", "ssl.ca.location=" + ca,
                "--registry-config", "basic.auth.user.info=" + REGISTRY_USER + ":" + registryPassword,
                "--registry-config", "ssl.ca.location=" + ca));
        Path log = tmp.resolve("python.log");
        ProcessBuilder builder = new ProcessBuilder(command).directory(project.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        // requests puts these variables before a session's own CA file (ssl.ca.location) when set.
        builder.environment().remove("REQUESTS_CA_BUNDLE");
        builder.environment().remove("CURL_CA_BUNDLE");
        Process python = builder.start();
        boolean done = python.waitFor(180, TimeUnit.SECONDS);
        if (!done) {
            python.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(done).as("the example within 180 s:%n%s", output).isTrue();
        assertThat(python.exitValue()).as("the example's exit code:%n%s", output).isZero();
        JsonNode summary = JSON.readTree(output.lines().filter(l -> l.startsWith("SUMMARY "))
                .reduce((a, b) -> b).orElseThrow(() -> new AssertionError("no SUMMARY in " + output))
                .substring("SUMMARY ".length()));
        assertThat(summary.get("published").asInt()).isEqualTo(PYTHON_STEPS);
        assertThat(summary.get("mined_consumed").asInt()).isPositive();

        // Independently, from Kafka: hardmine mined each of its batches.
        try (MinedBatchSubscriber subscriber = secured(MinedBatchSubscriber.builder(), kafka.password())
                .jobId(PYTHON_JOB).ownBatchesOf("worker-0").fromBeginning().build()) {
            assertThat(awaitMined(subscriber, PYTHON_STEPS)).extracting(MinedBatch::getStep)
                    .containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
        }
    }

    /** Last, so that run's output holds everything the tests above made it do. */
    @Test
    @Order(7)
    void theSecretsAppearNowhereInRunsOutputNorInTheHttpApi() throws Exception {
        List<String> secrets = List.of(kafka.password(), kafka.certificates().password(), registryPassword, httpToken);
        HttpClient http = HttpClient.newHttpClient();
        Map<String, String> answers = new LinkedHashMap<>();
        for (String path : List.of("/", "/health", "/ready", "/metrics", "/api/jobs", "/api/service",
                "/api/jobs/" + JOB + "/stats", "/api/jobs/" + JOB + "/memory", "/api/jobs/" + JOB + "/neighbors")) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(apiBase + path))
                    .header("Authorization", "Bearer " + httpToken).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(path).isIn(200, 404);
            answers.put(path, response.headers().map() + "\n" + response.body());
        }
        assertThat(answers.get("/api/jobs")).contains(JOB);
        assertThat(answers.get("/metrics")).contains("hardmine_consumer_lag");
        String output = run.output();
        // Kafka printed its configuration, masked, and hardmine printed what it runs on.
        assertThat(output).contains("sasl.jaas.config = [hidden]", "ssl.truststore.password = [hidden]",
                "hardmine run: mining " + topics.embeddings());

        for (String secret : secrets) {
            assertThat(output).as("run's output").doesNotContain(secret);
            answers.forEach((path, answer) -> assertThat(answer).as(path).doesNotContain(secret));
        }
    }
}
