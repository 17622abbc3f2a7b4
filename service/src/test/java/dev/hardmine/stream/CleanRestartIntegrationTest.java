package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.SharedKafkaBroker;
import dev.hardmine.testing.SyntheticLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * A service stopped in order and started again on the state directory it left, or a task that moves
 * to another instance and back, finds every task as it was: none taken for corrupted and wiped, and
 * the stats window goes on counting where it stopped. One job on several partitions leaves stats
 * tasks without a record: with the window store on disk, those kept no changelog offset
 * ({@link MiningTopology#statsWindowStore}).
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(150)
class CleanRestartIntegrationTest {
    private static final String KAFKA_STREAMS_INTERNALS = "org.apache.kafka.streams.processor.internals";

    private LiveMining live;
    private final ListAppender<ILoggingEvent> streamsLog = new ListAppender<>();

    @BeforeEach
    void slice(LiveMining live) {
        this.live = live; // closed by the extension when the test ends
        streamsLog.start();
        internalsLogger().addAppender(streamsLog);
    }

    @AfterEach
    void detach() {
        internalsLogger().detachAppender(streamsLog);
    }

    private static Logger internalsLogger() {
        return (Logger) LoggerFactory.getLogger(KAFKA_STREAMS_INTERNALS);
    }

    @Test
    void noTaskIsWipedAsCorruptedAndTheStatsWindowCountsOn() throws IOException {
        List<EmbeddingBatch> log = jobZero();
        int before = log.size() / 2;
        Properties properties = live.properties("memory.per-identity", "0");
        MinerService first = live.start(properties);
        log.subList(0, before).forEach(live::send);
        live.awaitMined(before);
        awaitBatchesCounted(before);
        first.close();

        // The window store is in memory: nothing of it on disk. An earlier release left a directory for it.
        Path application = LeftoverStoreDirectories.applicationDirectory(
                MinerService.streamsProperties(first.config(), first.deadLetters()));
        assertThat(windowStores(application)).isEmpty();
        Path leftover = Files.createDirectories(application.resolve("2_1").resolve(MiningTopology.STATS_STORE)
                .resolve(MiningTopology.STATS_STORE + ".1796505960000"));
        Files.writeString(leftover.resolve("000009.sst"), "a segment an earlier release wrote");

        streamsLog.list.clear();
        live.start(properties);
        log.subList(before, log.size()).forEach(live::send);
        live.awaitMined(log.size());
        awaitBatchesCounted(log.size());

        assertThat(windowStores(application)).isEmpty();
        assertNoTaskTakenForCorrupted(first);
    }

    @Test
    void aStatsTaskThatMovesToAnotherInstanceAndBackIsNotWipedAsCorrupted() {
        List<EmbeddingBatch> log = jobZero();
        int partitions = 4;
        // Every task counts as caught up anywhere, so the second instance takes its share at once.
        String[] settings = {"memory.per-identity", "0", "topics.partitions", Integer.toString(partitions),
                "kafka.acceptable.recovery.lag", "1000000000"};
        MinerService first = live.start(live.properties(settings));
        int third = log.size() / 3;
        log.subList(0, third).forEach(live::send);
        live.awaitMined(third);
        awaitBatchesCounted(third);
        Set<TaskId> allStatsTasks = statsTasks(first);
        assertThat(allStatsTasks).hasSize(partitions);

        MinerService second = live.start(live.properties(settings));
        await().atMost(LiveMining.TIMEOUT).until(() -> shared(first, second, allStatsTasks));
        Set<TaskId> moved = statsTasks(second);
        int jobPartition = LiveMining.partitionOf("job-0", partitions);
        assertThat(moved).as("a stats task without a record moved to the second instance")
                .anyMatch(task -> task.partition() != jobPartition);
        log.subList(third, 2 * third).forEach(live::send);
        live.awaitMined(2 * third);
        awaitBatchesCounted(2 * third);

        streamsLog.list.clear();
        second.close();
        await().atMost(LiveMining.TIMEOUT).until(() -> first.streams().state() == KafkaStreams.State.RUNNING
                && statsTasks(first).equals(allStatsTasks));
        log.subList(2 * third, log.size()).forEach(live::send);
        live.awaitMined(log.size());
        awaitBatchesCounted(log.size());

        assertNoTaskTakenForCorrupted(first);
    }

    /** Whether both instances run and hold the stats tasks between them, each at least one. */
    private static boolean shared(MinerService first, MinerService second, Set<TaskId> statsTasks) {
        if (first.streams().state() != KafkaStreams.State.RUNNING || second.streams().state() != KafkaStreams.State.RUNNING) {
            return false;
        }
        Set<TaskId> one = statsTasks(first);
        Set<TaskId> other = statsTasks(second);
        Set<TaskId> both = new HashSet<>(one);
        both.addAll(other);
        return !one.isEmpty() && !other.isEmpty() && Collections.disjoint(one, other) && both.equals(statsTasks);
    }

    private static List<EmbeddingBatch> jobZero() {
        return SyntheticLog.batches(43, 16, 4, 3, 8).stream().filter(b -> b.getJobId().equals("job-0")).toList();
    }

    private void assertNoTaskTakenForCorrupted(MinerService service) {
        String applicationId = service.config().applicationId();
        assertThat(streamsLog.list)
                .filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .filteredOn(e -> e.getFormattedMessage().contains(applicationId))
                .extracting(ILoggingEvent::getFormattedMessage)
                .noneMatch(message -> message.contains("corrupted") || message.contains("did not find checkpoint offsets"));
    }

    /** The stats window's tasks active on {@code service}: those reading the window's repartition topic. */
    private static Set<TaskId> statsTasks(MinerService service) {
        return service.streams().metadataForLocalThreads().stream()
                .flatMap(thread -> thread.activeTasks().stream())
                .filter(task -> task.topicPartitions().stream().anyMatch(p -> p.topic().endsWith("-by-job-repartition")))
                .map(TaskMetadata::taskId)
                .collect(Collectors.toSet());
    }

    /** Waits until the job's last stats update of each window counts {@code batches} in all. */
    private void awaitBatchesCounted(int batches) {
        Map<Instant, MiningStats> latest = new HashMap<>();
        await().atMost(LiveMining.TIMEOUT).until(() -> {
            latest.clear();
            for (ConsumerRecord<String, MiningStats> r : live.awaitStats(0)) {
                latest.put(r.value().getWindowStart(), r.value());
            }
            return latest.values().stream().mapToLong(MiningStats::getBatches).sum() == batches;
        });
    }

    /** A directory named after the stats window's store in any task directory. */
    private static List<Path> windowStores(Path application) {
        try (Stream<Path> tasks = Files.list(application)) {
            return tasks.map(task -> task.resolve(MiningTopology.STATS_STORE)).filter(Files::isDirectory).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
