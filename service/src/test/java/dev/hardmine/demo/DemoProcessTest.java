package dev.hardmine.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.MinedBatch;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.testing.DemoProcess;
import dev.hardmine.testing.HardmineProcesses;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hardmine demo} as a user runs it: a child process, its ready line, its outputs, SIGTERM. */
class DemoProcessTest {

    @TempDir
    Path tmp;

    private Process start(String... args) throws IOException {
        return new ProcessBuilder(HardmineProcesses.command(List.of("-Xmx1g", "-Djava.io.tmpdir=" + tmp), args))
                .redirectError(tmp.resolveSibling(tmp.getFileName() + ".stderr").toFile())
                .start();
    }

    @Test
    void demoIsReadyMinesServesItsDashboardAndStopsCleanlyOnSigterm() throws Exception {
        int[] ports = EmbeddedKafkaBroker.freePorts(3, 0);
        int kafkaPort = ports[0];
        int registryPort = ports[1];
        int httpPort = ports[2];
        Process demo = start("demo", "--kafka-port", "" + kafkaPort, "--registry-port", "" + registryPort,
                "--http-port", "" + httpPort, "--workers", "2", "--identities", "200", "--dim", "32",
                "--interval-ms", "100");
        try {
            List<String> before = new ArrayList<>();
            Matcher m = DemoProcess.awaitReady(demo, before);
            assertThat(m).as("ready line within 60 s, after %s", before).isNotNull();
            assertThat(m.group(1)).isEqualTo("127.0.0.1:" + kafkaPort);
            assertThat(m.group(2)).isEqualTo("http://127.0.0.1:" + registryPort);
            assertThat(m.group(3)).isEqualTo("http://127.0.0.1:" + httpPort + "/");

            List<MinedBatch> mined = readMined(m.group(1), m.group(2));
            assertThat(mined).isNotEmpty();
            assertThat(mined).extracting(MinedBatch::getJobId).isSubsetOf("demo-job", "demo-job-2");
            assertThat(mined).anySatisfy(b -> assertThat(b.getTriplets()).isNotEmpty());

            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, m.group(1)))) {
                ConfigResource embeddings = new ConfigResource(ConfigResource.Type.TOPIC, "hardmine.embeddings");
                ConfigResource jobs = new ConfigResource(ConfigResource.Type.TOPIC, "hardmine.jobs");
                Map<ConfigResource, Config> configs = admin.describeConfigs(List.of(embeddings, jobs)).all()
                        .get(30, TimeUnit.SECONDS);
                assertThat(configs.get(embeddings).get(TopicConfig.RETENTION_MS_CONFIG).value())
                        .as("the demo's records kept for 15 minutes").isEqualTo("" + Demo.RETENTION.toMillis());
                assertThat(configs.get(jobs).get(TopicConfig.CLEANUP_POLICY_CONFIG).value())
                        .as("job settings compacted, not expired").isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
            }

            HttpResponse<String> page = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(m.group(3))).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("<title>hardmine</title>");
        } finally {
            demo.destroy(); // SIGTERM
        }
        assertThat(demo.waitFor(15, TimeUnit.SECONDS)).as("stopped within 15 s of SIGTERM").isTrue();
        assertThat(demo.exitValue()).isZero();
        try (Stream<Path> left = Files.list(tmp)) {
            assertThat(left.map(Path::toString)).as("files left in the demo's temporary directory").isEmpty();
        }
    }

    private static List<MinedBatch> readMined(String bootstrap, String registryUrl) {
        List<MinedBatch> out = new ArrayList<>();
        try (SchemaRegistryClient registry = SchemaRegistryClient.create(SerdeConfig.of(registryUrl).client());
             KafkaConsumer<String, MinedBatch> consumer = new KafkaConsumer<>(Map.of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                     ConsumerConfig.GROUP_ID_CONFIG, "demo-test",
                     ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                     ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                     new StringDeserializer(), new AvroDeserializer<>(MinedBatch.class, registry))) {
            consumer.subscribe(List.of("hardmine.mined"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (out.size() < 5 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, MinedBatch> r : consumer.poll(Duration.ofMillis(500))) {
                    out.add(r.value());
                }
            }
        }
        return out;
    }

    @Test
    void portInUseIsAOneLineErrorNamingThePortAndTheFlag() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            int[] ports = EmbeddedKafkaBroker.freePorts(2, 0);
            Process demo = start("demo", "--kafka-port", "" + ports[0], "--registry-port", "" + taken.getLocalPort(),
                    "--http-port", "" + ports[1]);
            assertThat(demo.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(demo.exitValue()).isEqualTo(2);
            String err = Files.readString(tmp.resolveSibling(tmp.getFileName() + ".stderr"));
            assertThat(err).contains("hardmine demo: error: port " + taken.getLocalPort() + " is in use (--registry-port)");
        }
    }
}
