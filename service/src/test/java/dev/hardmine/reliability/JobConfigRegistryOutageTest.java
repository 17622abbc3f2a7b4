package dev.hardmine.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.stream.MinerService;
import dev.hardmine.stream.ServiceConfig;
import dev.hardmine.testing.EvolvedRecords;
import dev.hardmine.testing.ExactlyOnce;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.RegistryFront;
import dev.hardmine.testing.SharedKafkaBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's JobConfig written with a writer schema the service has never fetched (a launcher on a
 * newer schema) while the schema registry is down: the settings wait for the registry and then
 * apply — they are not dead-lettered and skipped, which would lose them until the jobs topic is read
 * again from its start. Batches of the job go on being mined meanwhile, with the settings the job
 * had. An instance stopped while such a JobConfig waits leaves it unread, and the next start,
 * on the same state directory, reads it.
 *
 * <p>The service runs in this JVM against the shared broker; the registry keeps its schemas in a
 * Kafka topic and comes back on the same port, as a restarted registry does.
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class JobConfigRegistryOutageTest {
    private static final float NEW_MARGIN = 0.37f;
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration OUTAGE = Duration.ofSeconds(10);

    @TempDir
    Path tmp;
    private final String schemasTopic = "_schemas-jobs-outage-" + UUID.randomUUID();

    @Test
    void settingsOfANewSchemaWaitForTheRegistryAndThenApply(EmbeddedKafkaBroker kafka) throws Exception {
        EmbeddedSchemaRegistry registry = registry(kafka, 0);
        List<EmbeddingBatch> batches = ExactlyOnce.batchesOfJobs(41, 3, 1);
        String job = batches.get(0).getJobId();
        try (LiveMining live = new LiveMining(kafka, registry.url(), tmp)) {
            live.closeLater(registry);
            MinerService service = live.start(live.properties());
            live.send(batches.get(0));
            assertThat(live.awaitMined(1).get(0).value().getMargin()).as("the service's margin")
                    .isNotEqualTo(NEW_MARGIN);

            int id = registerNewSchema(registry, live);
            registry.close();
            long down = System.nanoTime();
            publishNewSettings(live, job, id);
            await().atMost(WAIT).until(() -> service.waitingFor().isPresent());
            live.send(batches.get(1));
            MinedBatch duringOutage = live.awaitMined(2).get(1).value();
            assertThat(duringOutage.getMargin()).as("a batch mined while the settings wait: the job's settings so far")
                    .isNotEqualTo(NEW_MARGIN);
            assertThat(service.waitingFor()).as("what the service waits for").hasValueSatisfying(reason ->
                    assertThat(reason).contains("schema registry").contains(registry.url()));
            // Down for longer than the registry client's own retries (1 + 2 + 4 s) and the fetcher's first wait.
            Thread.sleep(Math.max(0, OUTAGE.toMillis() - Duration.ofNanos(System.nanoTime() - down).toMillis()));
            assertThat(LiveMining.jobConfig(service, job)).as("the job's settings at the end of the outage").isNull();
            assertThat(service.streams().state()).as("Kafka Streams at the end of the outage")
                    .isEqualTo(KafkaStreams.State.RUNNING);

            live.closeLater(registry(kafka, registry.port()));
            await().atMost(WAIT).until(() -> service.waitingFor().isEmpty());
            assertMinedWithNewMargin(live, service, batches.get(2), 2);
            assertThat(live.countMoreWithin(live.topics().dlq(), Duration.ofSeconds(1))).as("dead letters").isZero();
            assertThat(service.failure().toCompletableFuture()).as("the service's failure").isNotDone();
        }
    }

    @Test
    void anInstanceStoppedWhileSettingsWaitLeavesThemForTheNextStart(EmbeddedKafkaBroker kafka) throws Exception {
        EmbeddedSchemaRegistry registry = registry(kafka, 0);
        List<EmbeddingBatch> batches = ExactlyOnce.batchesOfJobs(42, 2, 1);
        String job = batches.get(0).getJobId();
        try (LiveMining live = new LiveMining(kafka, registry.url(), tmp)) {
            live.closeLater(registry);
            Properties properties = live.properties();
            MinerService first = live.start(properties);
            live.send(batches.get(0));
            live.awaitMined(1);

            int id = registerNewSchema(registry, live);
            registry.close();
            publishNewSettings(live, job, id);
            await().atMost(WAIT).until(() -> first.waitingFor().isPresent());
            Thread.sleep(3_000); // past the fetcher's first wait (2 s): the global thread waits on its own
            long closing = System.nanoTime();
            first.close();
            Duration closed = Duration.ofNanos(System.nanoTime() - closing);
            assertThat(closed).as("time to stop with settings waiting (Kafka Streams gives up after 30 s)")
                    .isLessThan(Duration.ofSeconds(20));
            assertThat(first.failure().toCompletableFuture()).as("the stopped service's failure").isNotDone();

            live.closeLater(registry(kafka, registry.port()));
            MinerService second = live.start(properties); // the same state directory: its checkpoint is kept
            await().atMost(WAIT).until(() -> second.waitingFor().isEmpty());
            assertMinedWithNewMargin(live, second, batches.get(1), 1);
            assertThat(live.countMoreWithin(live.topics().dlq(), Duration.ofSeconds(1))).as("dead letters").isZero();
        }
    }

    /**
     * Settings published while the service was stopped are read by the jobs table's restore, in
     * Kafka Streams' start: with their writer schema out of reach the start waits for it, and the
     * service can still be stopped meanwhile (Kafka Streams' close waits for its start to return).
     */
    @Test
    void aStartWaitingForSettingsOfANewSchemaCanBeStoppedAndTheNextStartAppliesThem(EmbeddedKafkaBroker kafka)
            throws Exception {
        EmbeddedSchemaRegistry registry = registry(kafka, 0);
        List<EmbeddingBatch> batches = ExactlyOnce.batchesOfJobs(43, 2, 1);
        String job = batches.get(0).getJobId();
        try (RegistryFront front = RegistryFront.start(registry.url());
             LiveMining live = new LiveMining(kafka, front.url(), tmp)) {
            live.closeLater(registry);
            Properties properties = live.properties();
            MinerService first = live.start(properties);
            live.send(batches.get(0));
            live.awaitMined(1);
            first.close();

            int id = registerNewSchema(registry, live);
            front.fail(id); // the registry takes the service's registrations, but cannot give this schema
            publishNewSettings(live, job, id);

            MinerService waiting = new MinerService(ServiceConfig.fromProperties(properties));
            CompletableFuture<Void> start = CompletableFuture.runAsync(waiting::start);
            await().atMost(WAIT).until(() -> waiting.waitingFor().isPresent());
            Thread.sleep(3_000); // past the fetcher's first wait (2 s)
            assertThat(start).as("the start, while the jobs table's restore waits for the registry").isNotDone();
            // Apart, so that a close that waits for the start fails the test instead of hanging it.
            CompletableFuture<Void> close = CompletableFuture.runAsync(waiting::close);
            assertThat(close).as("the stop, while the start waits").succeedsWithin(Duration.ofSeconds(20));
            assertThat(start).as("the start, once stopped").failsWithin(Duration.ofSeconds(10));

            front.heal();
            MinerService next = live.start(properties); // the same state directory
            assertMinedWithNewMargin(live, next, batches.get(1), 1);
            assertThat(live.countMoreWithin(live.topics().dlq(), Duration.ofSeconds(1))).as("dead letters").isZero();
        }
    }

    /** The registry of this test's schemas topic, on {@code port} (0: any; a restarted one: its old port). */
    private EmbeddedSchemaRegistry registry(EmbeddedKafkaBroker kafka, int port) {
        return EmbeddedSchemaRegistry.builder().kafka(kafka.bootstrapServers()).topic(schemasTopic).port(port).start();
    }

    /** Registers JobConfig's evolved schema as a launcher on it would; its id. */
    private static int registerNewSchema(EmbeddedSchemaRegistry registry, LiveMining live) {
        try (SchemaRegistryClient launcher = SchemaRegistryClient.forUrl(registry.url())) {
            return launcher.register(live.topics().jobs() + "-value", EvolvedRecords.schema(JobConfig.getClassSchema()));
        }
    }

    /** Publishes the job's settings (margin changed) in the evolved schema of {@code id}. */
    private static void publishNewSettings(LiveMining live, String job, int id) {
        live.sendRaw(live.topics().jobs(), job,
                EvolvedRecords.payload(id, JobConfig.newBuilder().setJobId(job).setMargin(NEW_MARGIN).build()));
    }

    /**
     * Waits until the job's settings are in the service's jobs table, then publishes {@code batch}
     * and asserts it is mined with them: the settings reach the table on the global thread, which a
     * batch on the stream thread could otherwise pass.
     */
    private static void assertMinedWithNewMargin(LiveMining live, MinerService service, EmbeddingBatch batch,
                                                 int minedSoFar) {
        await().atMost(WAIT).untilAsserted(() -> assertThat(LiveMining.jobConfig(service, batch.getJobId()))
                .as("the job's settings in the jobs table")
                .isNotNull().extracting(JobConfig::getMargin).isEqualTo(NEW_MARGIN));
        live.send(batch);
        List<ConsumerRecord<String, MinedBatch>> mined = live.awaitMined(minedSoFar + 1);
        assertThat(mined.get(minedSoFar).value().getMargin()).as("margin of the job's batch once the registry is back")
                .isEqualTo(NEW_MARGIN);
    }
}
