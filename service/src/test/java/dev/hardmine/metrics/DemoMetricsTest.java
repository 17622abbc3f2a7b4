package dev.hardmine.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.stream.ServiceConfig;
import dev.hardmine.testing.DemoProcess;
import dev.hardmine.testing.PrometheusText;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} of a running {@code hardmine demo} (a child process with its own broker and
 * synthetic trainers, its token given in the environment only): hardmine's meters with real
 * values, Kafka Streams' and the JVM's, every metric the Grafana dashboard queries, and the token.
 * One demo for the whole class; one undecodable record is sent to it to produce a dead letter.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class DemoMetricsTest {
    private static final String TOKEN = "demo-metrics-token";
    private static final Path DASHBOARDS = Path.of("deploy", "grafana", "dashboards");
    private static final Path PROMETHEUS_CONFIG = Path.of("deploy", "prometheus");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path tmp;
    private static DemoProcess demo;
    private static PrometheusText metrics;

    @BeforeAll
    static void startDemoAndWaitForEveryMetric() throws Exception {
        demo = DemoProcess.start(tmp, Map.of("HARDMINE_HTTP_TOKEN", TOKEN),
                "--workers", "2", "--identities", "200", "--dim", "32", "--interval-ms", "100");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, demo.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            // Magic byte 1: not the Confluent wire format.
            producer.send(new ProducerRecord<>("hardmine.embeddings", "demo-job", new byte[] {1, 0, 0, 0, 1, 2}))
                    .get(20, TimeUnit.SECONDS);
        }
        Set<String> wanted = new TreeSet<>(dashboardMetricNames());
        wanted.addAll(List.of("hardmine_dead_letters_total", "hardmine_consumer_lag", "hardmine_batches_total"));
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            metrics = scrape();
            assertThat(metrics.names()).containsAll(wanted);
            assertThat(metrics.value("hardmine_batches_total", "job", "demo-job")).isGreaterThanOrEqualTo(5);
            // The record may sit in a partition the demo's batches reach later than others.
            assertThat(metrics.value("hardmine_dead_letters_total", "reason", "bad-magic-byte")).isPositive();
        });
    }

    @AfterAll
    static void stopDemo() throws Exception {
        if (demo != null) {
            demo.close();
        }
    }

    private static PrometheusText scrape() throws Exception {
        return PrometheusText.parse(get("metrics", "Bearer " + TOKEN).body());
    }

    private static HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(demo.httpUrl() + path)).timeout(Duration.ofSeconds(10));
        if (authorization != null) {
            r.header("Authorization", authorization);
        }
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void hardminesMetersCountTheDemosMining() throws Exception {
        PrometheusText p = metrics;
        String[] job = {"job", "demo-job"};
        // Each synthetic batch is 16 identities x 4 images, plus up to 16 samples fed back from
        // mined batches. A scrape reads one counter after the other while batches go on being
        // counted, so the bounds compare two scrapes: every batch of the first has its embeddings
        // counted by the second, and no embedding of the first is of a batch the second lacks.
        PrometheusText later = scrape();
        assertThat(later.value("hardmine_embeddings_total", job))
                .isGreaterThanOrEqualTo(64 * p.value("hardmine_batches_total", job));
        assertThat(p.value("hardmine_embeddings_total", job))
                .isLessThanOrEqualTo(80 * later.value("hardmine_batches_total", job));
        assertThat(p.value("hardmine_triplets_total", job)).isPositive();
        double hard = p.value("hardmine_triplets_counted_total", "job", "demo-job", "hardness", "hard");
        double semiHard = p.value("hardmine_triplets_counted_total", "job", "demo-job", "hardness", "semi_hard");
        double easy = p.value("hardmine_triplets_counted_total", "job", "demo-job", "hardness", "easy");
        assertThat(hard + semiHard + easy).isPositive();
        // 200 identities x 8 images, at most 16 kept per identity.
        assertThat(p.value("hardmine_memory_size", job)).isBetween(1.0, 1600.0);
        assertThat(p.value("hardmine_memory_identities", job)).isBetween(1.0, 200.0);
        // Each entry of dimension 32 is charged at least 2 x 4 x 34 + 256 bytes, plus its ids.
        assertThat(p.value("hardmine_memory_bytes", job)).isBetween(528.0, 1600.0 * (528 + 4 * 100));
        assertThat(p.value("hardmine_memory_max_bytes")).isEqualTo((double) ServiceConfig.DEFAULT_MEMORY_MAX_BYTES);
        for (String loss : List.of("batch_hard", "semi_hard", "weighted")) {
            assertThat(p.value("hardmine_loss", "job", "demo-job", "loss", loss)).isGreaterThanOrEqualTo(0.0);
        }
        // The demo's model is far from trained when this is scraped (its intra-class spread shrinks
        // over --learning-steps, 600 by default, from 1.3 where a positive lies about as far as the
        // nearest of some 1500 negatives): the hardest positive is further than the nearest negative
        // minus the margin for some anchor of the latest batch. The embeddings have unit norm, so a
        // distance is at most 2 and the loss at most 2 + the margin (0.2).
        assertThat(p.value("hardmine_loss", "job", "demo-job", "loss", "batch_hard")).isPositive().isLessThanOrEqualTo(2.2);
        assertThat(p.value("hardmine_distance_mean", "job", "demo-job", "pair", "ap")).isPositive();
        assertThat(p.value("hardmine_distance_mean", "job", "demo-job", "pair", "an")).isPositive();
        assertThat(p.value("hardmine_latency_seconds_count", job)).isPositive();
        assertThat(p.value("hardmine_latency_seconds_sum", job)).isPositive();
        assertThat(p.value("hardmine_mining_seconds_count", job)).isPositive();
        assertThat(p.value("hardmine_staleness_steps_count", job)).isPositive();
    }

    @Test
    void theUndecodableRecordIsOneDeadLetterWithItsReason() {
        assertThat(metrics.samples("hardmine_dead_letters_total")).filteredOn(s -> s.value() != 0)
                .extracting(s -> s.labels().get("reason")).containsExactly("bad-magic-byte");
        assertThat(metrics.value("hardmine_dead_letters_total", "reason", "bad-magic-byte")).isEqualTo(1.0);
    }

    @Test
    void theConsumerLagCoversEveryPartitionOfTheEmbeddingsTopic() {
        assertThat(metrics.samples("hardmine_consumer_lag", "topic", "hardmine.embeddings"))
                .extracting(s -> s.labels().get("partition")).containsExactlyInAnyOrder("0", "1", "2");
        assertThat(metrics.samples("hardmine_consumer_lag")).allSatisfy(s -> assertThat(s.value()).isNotNegative());
    }

    @Test
    void kafkaStreamsClientsAreMeasured() {
        assertThat(metrics.samples("kafka_stream_thread_process_total")).isNotEmpty()
                .allSatisfy(s -> assertThat(s.labels()).containsKey("thread_id"))
                .anySatisfy(s -> assertThat(s.value()).isPositive());
        assertThat(metrics.names()).anyMatch(n -> n.startsWith("kafka_consumer_"))
                .anyMatch(n -> n.startsWith("kafka_producer_"));
        assertThat(metrics.samples("kafka_consumer_fetch_manager_records_consumed_total"))
                .anySatisfy(s -> assertThat(s.value()).isPositive());
    }

    @Test
    void theJvmIsMeasured() {
        assertThat(metrics.samples("jvm_memory_used_bytes", "area", "heap"))
                .anySatisfy(s -> assertThat(s.value()).isPositive());
        assertThat(metrics.value("jvm_threads_live_threads")).isGreaterThan(10);
        assertThat(metrics.value("process_uptime_seconds")).isPositive();
    }

    @Test
    void everyMetricTheDashboardQueriesIsExposed() throws IOException {
        Set<String> queried = dashboardMetricNames();
        assertThat(queried).as("metric names found in the dashboard").hasSizeGreaterThan(10);
        for (String name : queried) {
            assertThat(metrics.names()).as("queried by the dashboard").contains(name);
            for (String suffix : List.of("_bucket", "_count", "_sum")) {
                if (name.endsWith(suffix) && name.startsWith("hardmine_")) {
                    String family = name.substring(0, name.length() - suffix.length());
                    assertThat(metrics.type(family)).as(name).isEqualTo("histogram");
                }
            }
        }
    }

    @Test
    void theTokenFromTheEnvironmentGuardsApiAndMetricsButNotHealth() throws Exception {
        for (String path : List.of("metrics", "api/jobs")) {
            assertThat(get(path, null).statusCode()).as(path).isEqualTo(401);
            assertThat(get(path, "Bearer not-" + TOKEN).statusCode()).as(path).isEqualTo(401);
            assertThat(get(path, "Bearer " + TOKEN).statusCode()).as(path).isEqualTo(200);
        }
        assertThat(get("health", null).statusCode()).isEqualTo(200);
        HttpResponse<String> scrape = get("metrics", "Bearer " + TOKEN);
        assertThat(scrape.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    }

    /**
     * Every metric name in the PromQL of the Grafana dashboards and the Prometheus configuration
     * (recording or alerting rules): each selector is written {@code name{…}}, so a name is what
     * stands right before a brace.
     */
    static Set<String> dashboardMetricNames() throws IOException {
        Pattern selector = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\{");
        List<String> queries = new ArrayList<>();
        try (Stream<Path> files = Files.list(DASHBOARDS)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                collectQueries(new ObjectMapper().readTree(f.toFile()), queries);
            }
        }
        try (Stream<Path> files = Files.walk(PROMETHEUS_CONFIG)) {
            for (Path f : files.filter(f -> f.toString().matches(".*rules?\\.ya?ml")).toList()) {
                for (String line : Files.readAllLines(f)) {
                    if (line.trim().startsWith("expr:")) {
                        queries.add(line);
                    }
                }
            }
        }
        Set<String> names = new TreeSet<>();
        for (String q : queries) {
            Matcher m = selector.matcher(q);
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    private static void collectQueries(JsonNode node, List<String> out) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (Set.of("expr", "query", "definition").contains(e.getKey()) && e.getValue().isTextual()) {
                    out.add(e.getValue().asText());
                } else {
                    collectQueries(e.getValue(), out);
                }
            }
        } else if (node.isArray()) {
            node.forEach(n -> collectQueries(n, out));
        }
    }
}
