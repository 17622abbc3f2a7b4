package dev.hardmine.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.testing.EvolvedRecords;
import dev.hardmine.testing.ExactlyOnce;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.MinedTopicReader;
import dev.hardmine.testing.PacedPublisher;
import dev.hardmine.testing.RunProcess;
import dev.hardmine.testing.SharedKafkaBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The schema registry down while {@code hardmine run} (a child process) mines and batches keep
 * coming: batches whose writer schema the service already has go on being mined; a batch written
 * with a schema it has never fetched (registered just before the outage, by a trainer on a newer
 * schema) is held back with the batch after it in its partition — not dead-lettered — and mined
 * once the registry is back; {@code /ready} says NOT_READY, naming the registry, meanwhile; the
 * process stays up; no dead letter at all; and every batch is mined exactly once, as an offline
 * replay mines it.
 *
 * <p>The registry keeps its schemas in a Kafka topic and comes back on the same port, as a
 * restarted registry does. The suite's outage lasts 20 s: time enough for the service's registry
 * client to run through its own retries (1 + 2 + 4 s) and for the background fetch to back off to
 * its longest wait (5 s) more than once. The full 30 s outage is
 * {@code -Doutage.down-seconds=30}.
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class RegistryOutageTest {
    private static final Duration DOWN = Duration.ofSeconds(Long.getLong("outage.down-seconds", 20));
    private static final int BATCHES = Integer.getInteger("outage.batches", 160);
    /** Publishing spans the outage and about 15 s around it. */
    private static final Duration PUBLISH_INTERVAL = Duration.ofMillis(Math.max(20,
            (DOWN.toMillis() + 15_000) / BATCHES));
    private static final MemoryLimits MEMORY = new MemoryLimits(4, 256, 0);
    private static final long MEMORY_MAX_BYTES = 64L << 20;
    private static final int PARTITIONS = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void knownSchemasFlowNewOnesWaitForTheRegistryNothingIsDeadLetteredAndEveryBatchIsMinedOnce(
            EmbeddedKafkaBroker kafka) throws Exception {
        // Two jobs that flow all along, on partitions 0 and 1; the job of the new schema on partition 2.
        String jobA = jobOnPartition(0);
        String jobB = jobOnPartition(1);
        String jobNew = jobOnPartition(2);
        List<EmbeddingBatch> flowing = ExactlyOnce.batchesOfJobs(21, BATCHES, 2).stream()
                .map(b -> EmbeddingBatch.newBuilder(b).setJobId(b.getJobId().equals("job-0") ? jobA : jobB).build())
                .toList();
        List<EmbeddingBatch> ofNewSchema = ExactlyOnce.batchesOfJobs(22, 2, 1).stream()
                .map(b -> EmbeddingBatch.newBuilder(b).setJobId(jobNew).build()).toList();
        String schemasTopic = "_schemas-outage-" + UUID.randomUUID();
        EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.builder().kafka(kafka.bootstrapServers())
                .topic(schemasTopic).start();
        int registryPort = registry.port();
        try (LiveMining live = new LiveMining(kafka, registry.url(), tmp);
             MinedTopicReader mined = new MinedTopicReader(live.bootstrapServers(), live.registryUrl(),
                     live.topics().mined())) {
            live.closeLater(registry);
            PacedPublisher publisher = new PacedPublisher(flowing, PUBLISH_INTERVAL, live::send);
            EmbeddedSchemaRegistry restarted;
            try (RunProcess run = RunProcess.start(tmp, live.properties(
                    "http.port", "0",
                    "topics.partitions", Integer.toString(PARTITIONS),
                    "memory.per-identity", Integer.toString(MEMORY.perIdentity()),
                    "memory.max-embeddings", Integer.toString(MEMORY.maxEmbeddings()),
                    "memory.max-bytes", Long.toString(MEMORY_MAX_BYTES)), live.topics().embeddings())) {
                String url = run.httpUrl();
                publisher.start();
                mined.awaitAtLeast(10, Duration.ofMinutes(2), run);
                // Mining starts before the instance is ready for good: Kafka Streams may rebalance
                // once more after its first assignment.
                HttpResponse<String> before = awaitReady(url, Duration.ofSeconds(60));
                assertThat(before.statusCode()).as("ready before the outage: %s", before.body()).isEqualTo(200);

                int newSchemaId;
                try (SchemaRegistryClient trainer = SchemaRegistryClient.forUrl(registry.url())) {
                    newSchemaId = trainer.register(live.topics().embeddings() + "-value", EvolvedRecords.schema(EmbeddingBatch.getClassSchema()));
                }
                registry.close();
                long downSince = System.nanoTime();
                int minedAtOutage = mined.poll();
                live.sendRaw(jobNew, EvolvedRecords.payload(newSchemaId, ofNewSchema.get(0)));
                live.send(ofNewSchema.get(1)); // a known schema, behind the new one in its partition

                List<String> notReadyReasons = new ArrayList<>();
                List<Integer> minedEverySecond = new ArrayList<>();
                long lastProgress = downSince;
                long longestStall = 0;
                int lastCount = minedAtOutage;
                while (System.nanoTime() - downSince < DOWN.toNanos()) {
                    int count = mined.poll();
                    long now = System.nanoTime();
                    if (count > lastCount) {
                        lastCount = count;
                        lastProgress = now;
                    }
                    longestStall = Math.max(longestStall, now - lastProgress);
                    if (System.nanoTime() - downSince >= (minedEverySecond.size() + 1) * 1_000_000_000L) {
                        minedEverySecond.add(count - minedAtOutage);
                    }
                    HttpResponse<String> ready = ready(url);
                    if (ready.statusCode() == 503) {
                        notReadyReasons.add(JSON.readTree(ready.body()).path("reason").asText());
                    }
                    assertThat(run.process().isAlive()).as("run alive during the outage:%n%s", run.output()).isTrue();
                }
                int minedInOutage = mined.poll() - minedAtOutage;
                assertThat(minedInOutage).as("batches of known schemas mined while the registry was down "
                                + "(by the end of each second: %s):%n%s", minedEverySecond, run.output())
                        .isGreaterThanOrEqualTo((int) (DOWN.toMillis() / PUBLISH_INTERVAL.toMillis() / 2));
                // Mining goes on all along: the stream thread does not wait for the registry (it used to,
                // for seconds at a time, on the first record of a schema it had not fetched).
                assertThat(Duration.ofNanos(longestStall)).as("longest time without a batch mined during the outage "
                        + "(by the end of each second: %s)", minedEverySecond).isLessThan(Duration.ofSeconds(5));
                assertThat(mined.byBatch()).as("nothing of the new schema's partition mined during the outage")
                        .doesNotContainKeys(ofNewSchema.stream().map(ExactlyOnce::key).toArray(String[]::new));
                assertThat(notReadyReasons).as("/ready during the outage").isNotEmpty()
                        .allSatisfy(reason -> assertThat(reason).contains("schema registry")
                                .contains(registry.url()).contains("[" + newSchemaId + "]"));

                restarted = EmbeddedSchemaRegistry.builder().kafka(kafka.bootstrapServers()).topic(schemasTopic)
                        .port(registryPort).start();
                live.closeLater(restarted);
                publisher.awaitDone(Duration.ofMinutes(3));
                int all = flowing.size() + ofNewSchema.size();
                mined.awaitAtLeast(all, Duration.ofMinutes(3), run);
                mined.readFor(Duration.ofSeconds(3));
                HttpResponse<String> after = awaitReady(url, Duration.ofSeconds(60));
                assertThat(after.statusCode()).as("ready once the registry is back: %s", after.body()).isEqualTo(200);
                assertThat(live.countMoreWithin(live.topics().dlq(), Duration.ofSeconds(2))).as("dead letters")
                        .isZero();
                assertThat(run.process().isAlive()).as("run alive after the outage:%n%s", run.output()).isTrue();
                System.out.printf("registry outage: %d s down; %d batches of known schemas mined during it, at "
                                + "most %.1f s without one; "
                                + "/ready answered 503 %d times (\"%s\"); the batch of the new schema and the one "
                                + "behind it mined after it; %d batches each mined exactly once, 0 dead letters%n",
                        DOWN.toSeconds(), minedInOutage, longestStall / 1e9, notReadyReasons.size(), notReadyReasons.get(0), all);
            }
            List<EmbeddingBatch> input = new ArrayList<>(flowing);
            input.addAll(ofNewSchema);
            ExactlyOnce.assertMinedOnceAsReplayed(mined.byBatch(), input, MEMORY, MEMORY_MAX_BYTES);
        }
    }

    /** {@code /ready} until it answers 200 or {@code within} has passed; the last answer. */
    private HttpResponse<String> awaitReady(String url, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        HttpResponse<String> ready = ready(url);
        while (ready.statusCode() != 200 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            ready = ready(url);
        }
        return ready;
    }

    private HttpResponse<String> ready(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url + "ready")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String jobOnPartition(int partition) {
        for (int i = 0; i < 1_000; i++) {
            if (LiveMining.partitionOf("job-" + i, PARTITIONS) == partition) {
                return "job-" + i;
            }
        }
        throw new IllegalStateException("no job id of the first 1000 lands on partition " + partition);
    }
}
