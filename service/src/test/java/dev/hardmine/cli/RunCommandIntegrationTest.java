package dev.hardmine.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.RunProcess;
import dev.hardmine.testing.SharedKafkaBroker;
import dev.hardmine.testing.SyntheticLog;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hardmine run --config FILE} as its own process, as it is deployed: it mines; SIGTERM stops
 * it with exit code 0; Kafka Streams stopping on an error ends it with exit code 1.
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(90)
class RunCommandIntegrationTest {
    private static EmbeddedSchemaRegistry registry;

    @TempDir
    Path tmp;
    private LiveMining live;
    private RunProcess runProcess;
    private Process run;

    @BeforeAll
    static void startRegistry() {
        registry = EmbeddedSchemaRegistry.builder().start();
    }

    @AfterAll
    static void stopRegistry() {
        registry.close();
    }

    @BeforeEach
    void slice(EmbeddedKafkaBroker kafka) {
        live = new LiveMining(kafka, registry.url(), tmp);
    }

    @AfterEach
    void close() throws InterruptedException {
        if (runProcess != null) {
            runProcess.close();
        }
        live.close();
    }

    /** Starts {@code hardmine run --config FILE} on the test's classpath and waits until it mines. */
    private void startRun(String... keyValues) throws Exception {
        Properties p = live.properties(keyValues);
        p.putIfAbsent("http.port", "0");
        runProcess = RunProcess.start(tmp, p, live.topics().embeddings());
        run = runProcess.process();
    }

    private String output() throws IOException {
        return runProcess.output();
    }

    @Test
    void runMinesFromItsConfigFileAndExitsZeroOnSigterm() throws Exception {
        startRun("mining.strategy", "semi-hard", "mining.margin", "0.5");
        List<EmbeddingBatch> batches = SyntheticLog.batches(61, 2, 4, 3, 8);
        batches.forEach(live::send);
        List<ConsumerRecord<String, MinedBatch>> mined = live.awaitMined(2);
        assertThat(mined).extracting(r -> r.value().getBatchId()).containsExactlyInAnyOrder("batch-0", "batch-1");
        assertThat(mined).allSatisfy(r -> assertThat(r.value().getStrategy()).isEqualTo("semi-hard"));

        run.destroy();  // SIGTERM
        assertThat(run.waitFor(15, TimeUnit.SECONDS)).as("stopped within 15 s:%n%s", output()).isTrue();
        assertThat(run.exitValue()).as("exit code; output:%n%s", output()).isZero();
        assertThat(output()).contains("hardmine run: stopping");
    }

    @Test
    void runExitsOneWhenKafkaStreamsStopsOnAnError(EmbeddedKafkaBroker kafka) throws Exception {
        startRun();
        try (Admin admin = kafka.admin()) {
            admin.deleteTopics(List.of(live.topics().embeddings())).all().get(20, TimeUnit.SECONDS);
        }

        assertThat(run.waitFor(20, TimeUnit.SECONDS)).as("exited on its own:%n%s", output()).isTrue();
        assertThat(run.exitValue()).as("exit code; output:%n%s", output()).isEqualTo(1);
        assertThat(output()).contains("hardmine run: error: Kafka Streams stopped on an error")
                .contains(live.topics().embeddings());
    }
}
