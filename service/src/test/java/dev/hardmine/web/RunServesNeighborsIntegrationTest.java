package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.Neighbor;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.RunProcess;
import dev.hardmine.testing.SharedKafkaBroker;
import dev.hardmine.testing.SyntheticLog;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hardmine run} as its own process serves what the miner publishes on the neighbours
 * topic at {@code /api/jobs/{id}/neighbors}, and still stops cleanly on SIGTERM with its boards.
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(90)
class RunServesNeighborsIntegrationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "neighbors-token";
    private static EmbeddedSchemaRegistry registry;

    @TempDir
    Path tmp;
    private RunProcess runProcess;

    @BeforeAll
    static void startRegistry() {
        registry = EmbeddedSchemaRegistry.builder().start();
    }

    @AfterAll
    static void stopRegistry() {
        registry.close();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (runProcess != null) {
            runProcess.close();
        }
    }

    private String output() throws IOException {
        return runProcess.output();
    }

    @Test
    void runServesTheLatestNeighboursOfEachLabel(EmbeddedKafkaBroker kafka) throws Exception {
        try (LiveMining live = new LiveMining(kafka, registry.url(), tmp.resolve("live"))) {
            Properties p = live.properties("neighbors.per-identity", "4", "http.port", "0", "http.token", TOKEN);
            runProcess = RunProcess.start(tmp, p, live.topics().embeddings());
            Process run = runProcess.process();
            Matcher m = Pattern.compile("hardmine run: http on (http://\\S+/) ").matcher(output());
            assertThat(m.find()).as(output()).isTrue();
            String base = m.group(1);

            SyntheticLog.batches(71, 6, 4, 3, 8).forEach(live::send); // jobs job-0 and job-1
            live.awaitMined(6);

            HttpClient http = HttpClient.newHttpClient();
            await().atMost(LiveMining.TIMEOUT).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
                // The latest record of each of job-0's labels, as published.
                Map<String, IdentityNeighbors> latest = new TreeMap<>();
                for (ConsumerRecord<String, IdentityNeighbors> r : live.awaitNeighbors(1)) {
                    if (r.value().getJobId().equals("job-0")) {
                        latest.put(r.value().getLabel(), r.value());
                    }
                }
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "api/jobs/job-0/neighbors"))
                        .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                JsonNode out = JSON.readTree(r.body());
                assertThat(latest).isNotEmpty();
                assertThat(out.get("identities").asInt()).isEqualTo(latest.size());
                assertThat(out.get("labels")).extracting(l -> l.get("label").asText())
                        .containsExactlyElementsOf(latest.keySet());
                double sum = 0;
                int i = 0;
                for (IdentityNeighbors n : latest.values()) {
                    double top = n.getNeighbors().stream().mapToDouble(Neighbor::getScore).max().orElseThrow();
                    sum += top / n.getNeighbors().stream().mapToDouble(Neighbor::getScore).sum();
                    JsonNode entry = out.get("labels").get(i++);
                    assertThat(entry.get("step").asLong()).isEqualTo(n.getStep());
                    assertThat(entry.get("neighbors")).extracting(x -> x.get("label").asText())
                            .containsExactlyElementsOf(n.getNeighbors().stream().map(Neighbor::getLabel).toList());
                }
                assertThat(out.get("concentration").asDouble()).isCloseTo(sum / latest.size(), within(1e-12));
            });
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "api/jobs/job-0/neighbors")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(401);

            run.destroy(); // SIGTERM
            assertThat(run.waitFor(15, TimeUnit.SECONDS)).as("stopped within 15 s:%n%s", output()).isTrue();
            assertThat(run.exitValue()).as(output()).isZero();
        }
    }
}
