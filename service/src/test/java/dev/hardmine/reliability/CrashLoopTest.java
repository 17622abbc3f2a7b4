package dev.hardmine.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.demo.Demo;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.replay.BatchSource;
import dev.hardmine.replay.MinedBatchSink;
import dev.hardmine.replay.Replayer;
import dev.hardmine.stream.InputLimits;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.RunProcess;
import dev.hardmine.testing.SharedKafkaBroker;
import dev.hardmine.testing.SyntheticLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once under a crash loop: {@code hardmine run} as a child process, killed with SIGKILL (no
 * shutdown hook) at random moments while batches of several jobs flow in, restarted each time,
 * the first and every third time with its state directory deleted so that the memory comes back from the
 * changelog. At the end a {@code read_committed} reader sees exactly one MinedBatch per input batch,
 * identical, but for the wall-clock {@code mined_at} and {@code mining_ms}, to an offline replay of
 * the same input: nothing lost, nothing twice, and no memory entry lost or kept too long.
 *
 * <p>The suite runs a short loop. The long one (docs/RELIABILITY.md) is the same test with
 * {@code -Dcrashloop.kills=25 -Dcrashloop.batches=5000}.
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(value = 2, unit = TimeUnit.HOURS)
class CrashLoopTest {
    private static final int KILLS = Integer.getInteger("crashloop.kills", 4);
    private static final int BATCHES = Integer.getInteger("crashloop.batches", 300);
    private static final int JOBS = Integer.getInteger("crashloop.jobs", 3);
    private static final long SEED = Long.getLong("crashloop.seed", 7);
    /** Publishing is spread over about 8 s per kill, so that batches keep arriving through the loop. */
    private static final long PUBLISH_INTERVAL_MS = Math.max(1, KILLS * 8_000L / BATCHES);
    private static final MemoryLimits MEMORY = new MemoryLimits(4, 256, 0);
    private static final long MEMORY_MAX_BYTES = 64L << 20;
    private static final Duration PROGRESS_TIMEOUT = Duration.ofSeconds(90);

    private static EmbeddedSchemaRegistry registry;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startRegistry() {
        registry = EmbeddedSchemaRegistry.builder().start();
    }

    @AfterAll
    static void stopRegistry() {
        registry.close();
    }

    @Test
    void everyBatchIsMinedExactlyOnceAndAsAReplayMinesItThroughRepeatedHardKills(EmbeddedKafkaBroker kafka)
            throws Exception {
        List<EmbeddingBatch> input = input();
        Random random = new Random(SEED);
        try (LiveMining live = new LiveMining(kafka, registry.url(), tmp);
             CommittedReader committed = new CommittedReader(live)) {
            Path stateDir = live.newStateDir();
            Properties properties = live.properties(
                    "kafka.state.dir", stateDir.toString(),
                    "http.port", "0",
                    "memory.per-identity", Integer.toString(MEMORY.perIdentity()),
                    "memory.max-embeddings", Integer.toString(MEMORY.maxEmbeddings()),
                    "memory.max-bytes", Long.toString(MEMORY_MAX_BYTES),
                    // A killed instance leaves the group within seconds, not the default 45.
                    "kafka.session.timeout.ms", "6000",
                    "kafka.heartbeat.interval.ms", "1000");
            Publisher publisher = new Publisher(live, input);

            int kills = 0;
            int wipes = 0;
            for (int cycle = 0; cycle < KILLS; cycle++) {
                int before = committed.poll();
                try (RunProcess run = RunProcess.start(tmp, properties, live.topics().embeddings())) {
                    if (cycle == 0) {
                        publisher.start(); // once run has created the topics with their partitions
                    }
                    // Kill only once this life made progress, so that the loop always ends.
                    committed.awaitMoreThan(before, PROGRESS_TIMEOUT, run);
                    Thread.sleep(random.nextInt(1_500));
                    run.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                    assertThat(run.process().isAlive()).as("killed").isFalse();
                    kills++;
                }
                if (cycle % 3 == 0) {
                    Demo.deleteRecursively(stateDir);
                    Files.createDirectories(stateDir);
                    wipes++;
                }
            }
            publisher.awaitDone(Duration.ofMinutes(10));
            try (RunProcess run = RunProcess.start(tmp, properties, live.topics().embeddings())) {
                committed.awaitAtLeast(input.size(), Duration.ofMinutes(10), run);
                committed.readFor(Duration.ofSeconds(3));
            }

            Map<String, List<MinedBatch>> byBatch = committed.byBatch();
            assertThat(byBatch.keySet()).as("mined batches").hasSize(input.size());
            assertThat(byBatch.values()).as("each batch mined once").allSatisfy(m -> assertThat(m).hasSize(1));
            Map<String, MinedBatch> replayed = replay(input);
            for (Map.Entry<String, MinedBatch> e : replayed.entrySet()) {
                assertThat(withoutWallClock(byBatch.get(e.getKey()).get(0)))
                        .as("batch %s as the replay mines it", e.getKey())
                        .isEqualTo(withoutWallClock(e.getValue()));
            }
            assertThat(kills).isEqualTo(KILLS);
            assertThat(wipes).isPositive();
            System.out.printf("crash loop: %d kills (%d with the state directory deleted), %d batches of %d jobs, "
                            + "each mined exactly once and as the replay mines it; %d MinedBatch records written "
                            + "in all, %d of them in aborted transactions%n",
                    kills, wipes, input.size(), JOBS, committed.uncommittedCount(), committed.uncommittedCount() - input.size());
        }
    }

    /** {@link #BATCHES} batches dealt round-robin to {@link #JOBS} jobs, in publishing order. */
    private static List<EmbeddingBatch> input() {
        List<EmbeddingBatch> out = new ArrayList<>();
        int b = 0;
        for (EmbeddingBatch batch : SyntheticLog.batches(SEED, BATCHES, 6, 3, 16)) {
            out.add(EmbeddingBatch.newBuilder(batch).setJobId("job-" + (b % JOBS)).build());
            b++;
        }
        return out;
    }

    /** Each batch as {@link Replayer} mines the same input offline with the service's settings. */
    private static Map<String, MinedBatch> replay(List<EmbeddingBatch> input) throws Exception {
        Map<String, MinedBatch> out = new TreeMap<>();
        Iterator<EmbeddingBatch> batches = input.iterator();
        BatchSource source = new BatchSource() {
            private int position;

            @Override
            public EmbeddingBatch next() {
                position++;
                return batches.hasNext() ? batches.next() : null;
            }

            @Override
            public String position() {
                return "batch " + position;
            }

            @Override
            public void close() {
            }
        };
        MinedBatchSink sink = new MinedBatchSink() {
            @Override
            public void write(MinedBatch batch) {
                out.put(key(batch), batch);
            }

            @Override
            public void commit() {
            }

            @Override
            public void close() {
            }
        };
        try (Replayer replayer = new Replayer(MiningSettings.defaults(), MEMORY, InputLimits.defaults(),
                MEMORY_MAX_BYTES, Clock.systemUTC())) {
            replayer.replay(source, sink);
        }
        return out;
    }

    private static String key(MinedBatch m) {
        return m.getJobId() + "/" + m.getBatchId();
    }

    private static MinedBatch withoutWallClock(MinedBatch m) {
        return MinedBatch.newBuilder(m).setMinedAt(Instant.EPOCH)
                .setStats(BatchStats.newBuilder(m.getStats()).setMiningMs(0).build()).build();
    }

    /** Publishes the input in order, one batch every {@link #PUBLISH_INTERVAL_MS}, on a thread of its own. */
    private static final class Publisher extends Thread {
        private final LiveMining live;
        private final List<EmbeddingBatch> input;
        private final AtomicInteger sent = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Publisher(LiveMining live, List<EmbeddingBatch> input) {
            super("crash-loop-publisher");
            this.live = live;
            this.input = input;
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                for (EmbeddingBatch batch : input) {
                    live.send(batch);
                    sent.incrementAndGet();
                    Thread.sleep(PUBLISH_INTERVAL_MS);
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }

        void awaitDone(Duration timeout) throws InterruptedException {
            join(timeout.toMillis());
            assertThat(failure.get()).as("publishing failed").isNull();
            assertThat(sent.get()).as("batches published").isEqualTo(input.size());
        }
    }

    /**
     * Reads the mined topic twice over: {@code read_committed}, as trainers do, and
     * {@code read_uncommitted}, to count what aborted transactions wrote.
     */
    private static final class CommittedReader implements AutoCloseable {
        private final KafkaConsumer<String, MinedBatch> committed;
        private final KafkaConsumer<String, byte[]> uncommitted;
        private final String topic;
        private final Map<String, List<MinedBatch>> byBatch = new HashMap<>();
        private int records;
        private long uncommittedRecords;

        CommittedReader(LiveMining live) {
            SchemaRegistryClient client = SchemaRegistryClient.create(SerdeConfig.of(live.registryUrl()).client());
            this.committed = new KafkaConsumer<>(config(live, "read_committed"), new StringDeserializer(),
                    new AvroDeserializer<>(MinedBatch.class, client));
            this.uncommitted = new KafkaConsumer<>(config(live, "read_uncommitted"), new StringDeserializer(),
                    new org.apache.kafka.common.serialization.ByteArrayDeserializer());
            this.topic = live.topics().mined();
        }

        /** Assigns every partition of the mined topic once {@code run} has created it. */
        private boolean assigned() {
            if (!committed.assignment().isEmpty()) {
                return true;
            }
            List<TopicPartition> partitions = committed.listTopics(Duration.ofSeconds(10)).getOrDefault(topic, List.of())
                    .stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            if (partitions.isEmpty()) {
                return false;
            }
            committed.assign(partitions);
            committed.seekToBeginning(partitions);
            uncommitted.assign(partitions);
            uncommitted.seekToBeginning(partitions);
            return true;
        }

        private static Map<String, Object> config(LiveMining live, String isolation) {
            return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, live.bootstrapServers(),
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation,
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                    ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2_000);
        }

        /** Reads what is there now; returns the number of committed records read so far. */
        int poll() throws InterruptedException {
            if (!assigned()) {
                Thread.sleep(200);
                return records;
            }
            for (ConsumerRecord<String, MinedBatch> r : committed.poll(Duration.ofMillis(200))) {
                byBatch.computeIfAbsent(key(r.value()), k -> new ArrayList<>()).add(r.value());
                records++;
            }
            uncommittedRecords += uncommitted.poll(Duration.ZERO).count();
            return records;
        }

        void awaitMoreThan(int count, Duration timeout, RunProcess run) throws Exception {
            awaitAtLeast(count + 1, timeout, run);
        }

        void awaitAtLeast(int count, Duration timeout, RunProcess run) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (poll() < count) {
                assertThat(run.process().isAlive()).as("hardmine run exited:%n%s", run.output()).isTrue();
                assertThat(System.nanoTime()).as("%d committed records within %s (have %d):%n%s",
                        count, timeout, records, run.output()).isLessThan(deadline);
            }
        }

        /** Reads for {@code period}, then whatever is left of aborted transactions. */
        void readFor(Duration period) throws InterruptedException {
            long deadline = System.nanoTime() + period.toNanos();
            while (System.nanoTime() < deadline) {
                poll();
            }
            long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            int more;
            do {
                more = uncommitted.poll(Duration.ofMillis(500)).count();
                uncommittedRecords += more;
            } while (more > 0 && System.nanoTime() < end);
        }

        Map<String, List<MinedBatch>> byBatch() {
            return byBatch;
        }

        long uncommittedCount() {
            return uncommittedRecords;
        }

        @Override
        public void close() {
            committed.close();
            uncommitted.close();
        }
    }
}
