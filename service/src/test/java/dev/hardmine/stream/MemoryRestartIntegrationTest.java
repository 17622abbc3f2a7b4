package dev.hardmine.stream;

import dev.hardmine.client.Topics;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.mining.JobMiner;
import dev.hardmine.mining.NeighborList;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.SharedKafkaBroker;
import dev.hardmine.testing.SyntheticLog;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A job's memory survives a restart of the service: from the state directory the instance left
 * behind, or — with an empty one — from the memory store's changelog. Either way the batches after
 * the restart are mined exactly as an uninterrupted {@link JobMiner} mines them.
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(90)
class MemoryRestartIntegrationTest {
    private static final int BEFORE_RESTART = 6;
    private static final int AFTER_RESTART = 4;

    private LiveMining live;

    @BeforeEach
    void slice(LiveMining live) {
        this.live = live; // closed by the extension when the test ends
    }

    @ParameterizedTest(name = "state directory {0}, memory.per-identity {1}")
    @CsvSource({"kept, 0", "empty, 0", "empty, 2"})
    void memoryIsBackAfterARestartAndMinesAsIfThereHadBeenNone(String stateDir, int perIdentity) {
        List<EmbeddingBatch> log = SyntheticLog.batches(41, BEFORE_RESTART + AFTER_RESTART, 4, 3, 8);
        // Memory samples and neighbours asked for too: after the restart they come from the restored stores.
        Properties first = live.properties("memory.per-identity", Integer.toString(perIdentity),
                "mining.memory-negatives", "3", "mining.memory-positives", "1",
                "neighbors.per-identity", "3", "neighbors.half-life-steps", "4");
        MinerService service = live.start(first);
        log.subList(0, BEFORE_RESTART).forEach(live::send);
        Map<String, MinedBatch> before = byBatchId(live.awaitMined(BEFORE_RESTART));
        service.close();

        Properties second = new Properties();
        second.putAll(first);
        if (stateDir.equals("empty")) {
            second.setProperty("kafka.state.dir", live.newStateDir().toString());
        }
        ServiceConfig config = live.start(second).config();
        log.subList(BEFORE_RESTART, log.size()).forEach(live::send);
        Map<String, MinedBatch> all = byBatchId(live.awaitMined(log.size()));
        assertThat(all).hasSize(log.size()).containsAllEntriesOf(before);

        // The core library, never interrupted, mines the same sequence to the same bits.
        Map<String, JobMiner> core = new HashMap<>();
        Map<String, Set<String>> publishedBeforeRestart = new HashMap<>();
        Map<String, Long> memorySize = new HashMap<>();
        Map<String, Map<String, NeighborList>> neighborLists = new HashMap<>();
        Map<String, List<IdentityNeighbors>> expectedNeighbors = new HashMap<>();
        try {
            for (int i = 0; i < log.size(); i++) {
                EmbeddingBatch b = log.get(i);
                JobSettings settings = JobSettings.resolve(config, null);
                JobMiner miner = core.computeIfAbsent(b.getJobId(),
                        j -> new JobMiner(settings.boundedBy(config.memoryMaxBytes(), b.getDim())));
                MinedBatch expected = MinedBatches.of(b, miner.mine(EmbeddingBatches.toSampleBatch(b,
                        config.inputLimits()), settings.mining()), settings.mining(), Instant.EPOCH);
                MinedBatch actual = all.get(b.getBatchId());
                assertThat(withoutWallClock(actual)).as("batch %s", b.getBatchId()).isEqualTo(withoutWallClock(expected));
                Map<String, NeighborList> lists = neighborLists.computeIfAbsent(b.getJobId(), j -> new HashMap<>());
                Neighbors.record(expected, settings.neighbors(), l -> lists.computeIfAbsent(l, x -> NeighborList.empty()))
                        .forEach((label, list) -> expectedNeighbors.computeIfAbsent(
                                Topics.neighborsKey(b.getJobId(), label), k -> new ArrayList<>())
                                .add(Neighbors.toRecord(b.getJobId(), label, list, settings.neighbors())));

                Set<String> ids = new HashSet<>();
                b.getSamples().forEach(s -> ids.add(s.getSampleId()));
                Set<String> earlier = publishedBeforeRestart.computeIfAbsent(b.getJobId(), j -> new HashSet<>());
                if (i < BEFORE_RESTART) {
                    earlier.addAll(ids);
                } else if (i < BEFORE_RESTART + 2) {
                    // The job's first batch after the restart pairs its anchors with samples from before it.
                    Set<String> onlyBefore = new HashSet<>(earlier);
                    onlyBefore.removeAll(ids);
                    assertThat(actual.getTriplets()).as("batch %s", b.getBatchId())
                            .anyMatch(t -> onlyBefore.contains(t.getPositiveId()) || onlyBefore.contains(t.getNegativeId()));
                    assertThat(actual.getMemorySamples()).as("batch %s", b.getBatchId())
                            .anyMatch(x -> onlyBefore.contains(x.getSampleId()));
                    if (perIdentity == 0) {
                        // No eviction: the memory is what it was plus this batch's new sample ids.
                        Set<String> added = new HashSet<>(ids);
                        added.removeAll(earlier);
                        assertThat(actual.getStats().getMemorySize())
                                .isEqualTo(memorySize.get(b.getJobId()) + added.size());
                    }
                }
                memorySize.put(b.getJobId(), actual.getStats().getMemorySize());
            }
        } finally {
            core.values().forEach(JobMiner::close);
        }

        // Each label's neighbour records, in order, as an uninterrupted tracker publishes them.
        int count = expectedNeighbors.values().stream().mapToInt(List::size).sum();
        Map<String, List<IdentityNeighbors>> published = new HashMap<>();
        live.awaitNeighbors(count).forEach(r -> published.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value()));
        assertThat(published).isEqualTo(expectedNeighbors);
    }

    private static Map<String, MinedBatch> byBatchId(List<ConsumerRecord<String, MinedBatch>> records) {
        Map<String, MinedBatch> out = new HashMap<>();
        for (var r : records) {
            assertThat(out.put(r.value().getBatchId(), r.value())).as("duplicate %s", r.value().getBatchId()).isNull();
        }
        return out;
    }

    /** A copy without the fields that depend on the wall clock: mined_at and stats.mining_ms. */
    private static MinedBatch withoutWallClock(MinedBatch m) {
        MinedBatch copy = MinedBatch.newBuilder(m).setMinedAt(Instant.EPOCH).build();
        copy.getStats().setMiningMs(0);
        return copy;
    }
}
