package dev.hardmine.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.demo.Demo;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.testing.ExactlyOnce;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.MinedTopicReader;
import dev.hardmine.testing.PacedPublisher;
import dev.hardmine.testing.RunProcess;
import dev.hardmine.testing.SharedKafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once under a crash loop: {@code hardmine run} as a child process, killed with SIGKILL (no
 * shutdown hook) at random moments while batches of several jobs flow in, restarted each time, the
 * first and every third time with its state directory deleted so that the memory comes back from
 * the changelog. At the end every batch was mined exactly once, as an offline replay mines it
 * ({@link ExactlyOnce}).
 *
 * <p>The suite runs a short loop; the long one (docs/RELIABILITY.md) is the same test with
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
    private static final Duration PUBLISH_INTERVAL = Duration.ofMillis(Math.max(1, KILLS * 8_000L / BATCHES));
    private static final MemoryLimits MEMORY = new MemoryLimits(4, 256, 0);
    private static final long MEMORY_MAX_BYTES = 64L << 20;
    private static final Duration PROGRESS_TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path tmp;

    @Test
    void everyBatchIsMinedExactlyOnceAndAsAReplayMinesItThroughRepeatedHardKills(EmbeddedKafkaBroker kafka)
            throws Exception {
        List<EmbeddingBatch> input = ExactlyOnce.batchesOfJobs(SEED, BATCHES, JOBS);
        Random random = new Random(SEED);
        try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.builder().start();
             LiveMining live = new LiveMining(kafka, registry.url(), tmp);
             MinedTopicReader mined = new MinedTopicReader(live.bootstrapServers(), live.registryUrl(),
                     live.topics().mined())) {
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
            PacedPublisher publisher = new PacedPublisher(input, PUBLISH_INTERVAL, live::send);

            int kills = 0;
            int wipes = 0;
            for (int cycle = 0; cycle < KILLS; cycle++) {
                int before = mined.poll();
                try (RunProcess run = RunProcess.start(tmp, properties, live.topics().embeddings())) {
                    if (cycle == 0) {
                        publisher.start(); // once run has created the topics with their partitions
                    }
                    // Kill only once this life made progress, so that the loop always ends.
                    mined.awaitAtLeast(before + 1, PROGRESS_TIMEOUT, run);
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
                mined.awaitAtLeast(input.size(), Duration.ofMinutes(10), run);
                mined.readFor(Duration.ofSeconds(3));
            }

            ExactlyOnce.assertMinedOnceAsReplayed(mined.byBatch(), input, MEMORY, MEMORY_MAX_BYTES);
            assertThat(kills).isEqualTo(KILLS);
            assertThat(wipes).isPositive();
            System.out.printf("crash loop: %d kills (%d with the state directory deleted), %d batches of %d jobs, "
                            + "each mined exactly once and as the replay mines it; %d MinedBatch records written "
                            + "in all, %d of them in aborted transactions%n", kills, wipes, input.size(), JOBS,
                    mined.uncommittedCount(), mined.uncommittedCount() - input.size());
        }
    }
}
