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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * A service stopped in order and started again on the state directory it left finds every task as
 * it was: none taken for corrupted and wiped, and the stats window goes on counting where it stopped.
 * One job on two partitions leaves one stats task without a record, whose window store has no
 * segment to keep its changelog offset in ({@link WindowStoreDirectories}).
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(90)
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
    void noTaskIsWipedAsCorruptedAndTheStatsWindowCountsOn() {
        List<EmbeddingBatch> log = SyntheticLog.batches(43, 16, 4, 3, 8).stream()
                .filter(b -> b.getJobId().equals("job-0")).toList();
        int before = log.size() / 2;
        Properties properties = live.properties("memory.per-identity", "0");
        MinerService first = live.start(properties);
        log.subList(0, before).forEach(live::send);
        live.awaitMined(before);
        awaitBatchesCounted(before);
        first.close();

        // One stats task had the job's records, the other none: its window store is a directory without segments.
        Path application = WindowStoreDirectories.applicationDirectory(
                MinerService.streamsProperties(first.config(), first.deadLetters()));
        List<Path> windowStores = windowStores(application);
        assertThat(windowStores).hasSize(2).filteredOn(WindowStoreDirectories::isEmptyDirectory).hasSize(1);

        streamsLog.list.clear();
        live.start(properties);
        log.subList(before, log.size()).forEach(live::send);
        live.awaitMined(log.size());
        awaitBatchesCounted(log.size());

        String applicationId = first.config().applicationId();
        assertThat(streamsLog.list)
                .filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .filteredOn(e -> e.getFormattedMessage().contains(applicationId))
                .extracting(ILoggingEvent::getFormattedMessage)
                .noneMatch(message -> message.contains("corrupted") || message.contains("did not find checkpoint offsets"));
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

    /** The stats window's directory in each task directory that has one. */
    private static List<Path> windowStores(Path application) {
        try (Stream<Path> tasks = Files.list(application)) {
            return tasks.map(task -> task.resolve(MiningTopology.STATS_STORE)).filter(Files::isDirectory).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
