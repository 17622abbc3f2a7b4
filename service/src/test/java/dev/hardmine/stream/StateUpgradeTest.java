package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.testing.SyntheticLog;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.internals.WrappedStateStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upgrade restores what the previous release persisted. The fixtures under {@code unversioned/}
 * are the stores exactly as hardmine left them before its memory, stats and job-dims values carried
 * a format version (see their header for the log and settings that made them); the service must
 * read them, mine on from them as if it had never stopped, and write versioned values from then on.
 */
class StateUpgradeTest {
    private static final List<EmbeddingBatch> LOG = SyntheticLog.batches(41, 10, 4, 3, 8);
    private static final int BEFORE_UPGRADE = 6;
    private static final HexFormat HEX = HexFormat.of();

    /** The settings the fixtures were written with: evictions, identity sharding, memory samples, neighbours. */
    private static Properties settings() {
        Properties p = new Properties();
        p.putAll(Map.of("memory.per-identity", "2", "shards.per-job", "2", "mining.memory-negatives", "3",
                "mining.memory-positives", "1", "neighbors.per-identity", "3", "neighbors.half-life-steps", "4"));
        return p;
    }

    /** A fixture's entries, each as its space-separated fields. */
    private static List<String[]> fixture(String store) {
        try (InputStream in = StateUpgradeTest.class.getResourceAsStream("unversioned/" + store + ".hex")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(line -> !line.startsWith("#") && !line.isBlank())
                    .map(line -> line.split(" ")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void restore(TopologyFixture f, String store) {
        KeyValueStore<Bytes, byte[]> s = f.driver.getKeyValueStore(store);
        for (String[] entry : fixture(store)) {
            s.put(Bytes.wrap(HEX.parseHex(entry[0])), HEX.parseHex(entry[1]));
        }
    }

    /** A mined batch without what depends on the clock. */
    private static MinedBatch timeless(MinedBatch m) {
        return MinedBatch.newBuilder(m).setMinedAt(Instant.EPOCH)
                .setStats(BatchStats.newBuilder(m.getStats()).setMiningMs(0).build()).build();
    }

    /** Window statistics without what depends on the clock: latencies (from mined_at) and mining times. */
    private static MiningStats timeless(MiningStats s) {
        return MiningStats.newBuilder(s).setLatencyP50Ms(0).setLatencyP99Ms(0).setLatencyMaxMs(0).setMiningMsMean(0)
                .build();
    }

    /** Equal to 1e-5 relative, the agreement asked of losses throughout. */
    private static int sameToFloatSums(Double a, Double b) {
        return Math.abs(a - b) <= 1e-5 * Math.max(Math.abs(a), Math.abs(b)) ? 0 : Double.compare(a, b);
    }

    private static boolean afterUpgrade(MinedBatch m) {
        return Integer.parseInt(m.getBatchId().substring("batch-".length())) >= BEFORE_UPGRADE;
    }

    @Test
    void memoryAndNeighboursOfThePreviousReleaseAreMinedOnAsIfThereHadBeenNoUpgrade(@TempDir Path upgradedDir,
                                                                                    @TempDir Path uninterruptedDir) {
        try (TopologyFixture upgraded = new TopologyFixture(settings(), upgradedDir);
             TopologyFixture uninterrupted = new TopologyFixture(settings(), uninterruptedDir)) {
            restore(upgraded, MemoryStore.NAME);
            restore(upgraded, NeighborStore.NAME);
            LOG.subList(BEFORE_UPGRADE, LOG.size()).forEach(upgraded::send);
            LOG.forEach(uninterrupted::send);

            List<MinedBatch> expected = uninterrupted.output.readValuesToList().stream()
                    .filter(StateUpgradeTest::afterUpgrade).map(StateUpgradeTest::timeless).toList();
            List<MinedBatch> mined = upgraded.output.readValuesToList().stream()
                    .map(StateUpgradeTest::timeless).toList();
            assertThat(expected).extracting(MinedBatch::getBatchId)
                    .contains("batch-6", "batch-7", "batch-8", "batch-9");
            assertThat(mined).isEqualTo(expected);

            List<IdentityNeighbors> published = uninterrupted.neighborsOutput.readValuesToList();
            List<IdentityNeighbors> neighbours = upgraded.neighborsOutput.readValuesToList();
            assertThat(neighbours).isNotEmpty()
                    .isEqualTo(published.subList(published.size() - neighbours.size(), published.size()));
        }
    }

    @Test
    void theMemoryIsWrittenInTheVersionedFormatFromTheFirstBatchOn(@TempDir Path stateDir) {
        try (TopologyFixture f = new TopologyFixture(settings(), stateDir)) {
            restore(f, MemoryStore.NAME);
            Map<Bytes, byte[]> before = new HashMap<>();
            KeyValueStore<Bytes, byte[]> store = f.driver.getKeyValueStore(MemoryStore.NAME);
            store.all().forEachRemaining(kv -> before.put(kv.key, kv.value));
            f.send(LOG.get(BEFORE_UPGRADE));

            int rewritten = 0;
            try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
                while (it.hasNext()) {
                    KeyValue<Bytes, byte[]> kv = it.next();
                    byte[] old = before.get(kv.key);
                    if (old == null || !Arrays.equals(old, kv.value)) {
                        rewritten++;
                        assertThat(kv.value[0]).as("a value written now").isEqualTo(MemoryStore.FORMAT_VERSION);
                    } else {
                        assertThat(kv.value[0]).as("a value left as it was").isEqualTo(StateFormat.UNVERSIONED);
                    }
                }
            }
            assertThat(rewritten).as("the batch's entries and both shards' counters").isGreaterThan(2);
            assertThat(MemoryStore.summarize(store, "job-0").size()).isPositive();
        }
    }

    @Test
    void statsWindowsOfThePreviousReleaseAreReadWhole(@TempDir Path stateDir) {
        Map<String, MiningStats> aggregated = new HashMap<>();
        try (TopologyFixture f = new TopologyFixture(settings(), stateDir)) {
            LOG.subList(0, BEFORE_UPGRADE).forEach(f::send);
            WindowStore<String, StatsAccumulator> windows = f.driver.getWindowStore(MiningTopology.STATS_STORE);
            try (KeyValueIterator<Windowed<String>, StatsAccumulator> it = windows.all()) {
                it.forEachRemaining(kv -> aggregated.put(kv.key.key() + " " + kv.key.window().start(), timeless(
                        kv.value.toMiningStats(kv.key.key(), kv.key.window().start(), kv.key.window().end()))));
            }
        }
        Deserializer<StatsAccumulator> serde = StatsAccumulator.serde().deserializer();
        List<String[]> stored = fixture(MiningTopology.STATS_STORE);
        assertThat(stored).hasSize(aggregated.size());
        for (String[] window : stored) {
            MiningStats expected = aggregated.get(window[0] + " " + window[1]);
            long start = Long.parseLong(window[1]);
            MiningStats read = timeless(serde.deserialize("t", HEX.parseHex(window[2]))
                    .toMiningStats(window[0], start, expected.getWindowEnd().toEpochMilli()));
            // The windows are mined again here; the fixture's were mined on the machine that recorded it. BLAS
            // kernels differ between CPUs, so the float sums (losses, mean distances) may differ in their last
            // bits; every count, and every other field, is read exactly.
            assertThat(read).usingRecursiveComparison()
                    .withComparatorForType(StateUpgradeTest::sameToFloatSums, Double.class).isEqualTo(expected);
            assertThat(read.getGapCounts()).contains(0L).isNotEqualTo(List.of());
        }
    }

    @Test
    void statsWindowsWrittenBeforeTheGapHistogramReadWithAnEmptyOne() {
        byte[] stored = HEX.parseHex(fixture(MiningTopology.STATS_STORE).get(0)[2]);
        int histogramBytes = 8 * 2 + 8 * (StatsAccumulator.GAP_BINS + 2);
        byte[] older = Arrays.copyOf(stored, stored.length - histogramBytes);
        Deserializer<StatsAccumulator> serde = StatsAccumulator.serde().deserializer();

        MiningStats withHistogram = serde.deserialize("t", stored).toMiningStats("job-0", 0, 1);
        MiningStats without = serde.deserialize("t", older).toMiningStats("job-0", 0, 1);
        assertThat(without.getBatches()).isEqualTo(withHistogram.getBatches()).isPositive();
        assertThat(without.getLatencyP99Ms()).isEqualTo(withHistogram.getLatencyP99Ms());
        assertThat(without.getGapCounts()).containsOnly(0L);
    }

    @Test
    void aStatsWindowIsWrittenWithItsVersionAndReadBack() {
        byte[] stored = HEX.parseHex(fixture(MiningTopology.STATS_STORE).get(1)[2]);
        var serde = StatsAccumulator.serde();
        StatsAccumulator read = serde.deserializer().deserialize("t", stored);
        byte[] rewritten = serde.serializer().serialize("t", read);

        assertThat(rewritten[0]).isEqualTo(StatsAccumulator.FORMAT_VERSION);
        assertThat(Arrays.copyOfRange(rewritten, 1, rewritten.length)).as("the same fields after the version")
                .isEqualTo(stored);
    }

    @Test
    void jobDimsOfThePreviousReleaseAreReadAndNewOnesCarryTheVersion() {
        var serde = ShardSplitter.jobDimSerde();
        List<String[]> stored = fixture(MiningTopology.JOB_DIM_STORE);
        assertThat(stored).extracting(e -> e[0]).containsExactly("job-0", "job-1");
        for (String[] dim : stored) {
            assertThat(serde.deserializer().deserialize("t", HEX.parseHex(dim[1]))).isEqualTo(8);
        }
        byte[] written = serde.serializer().serialize("t", 8);
        assertThat(written).containsExactly(ShardSplitter.DIM_FORMAT_VERSION, 0, 0, 0, 8);
        assertThat(serde.deserializer().deserialize("t", written)).isEqualTo(8);
    }

    @Test
    void neighbourListsOfThePreviousReleaseAreReadAndWrittenAlike() {
        for (String[] entry : fixture(NeighborStore.NAME)) {
            byte[] stored = HEX.parseHex(entry[1]);
            assertThat(NeighborStore.encode(NeighborStore.decode(stored))).isEqualTo(stored);
        }
    }

    /**
     * Releases before the jobs table was a global store of the service's own copied the jobs topic's
     * bytes into it when they restored it: a JobConfig that never decoded may sit in an upgraded
     * instance's table. Its job mines with the service's settings, as if it had none, and no batch is
     * a dead letter.
     */
    @Test
    void aJobConfigThePreviousReleaseKeptUndecodedLeavesItsJobOnTheServiceSettings(@TempDir Path upgradedDir,
                                                                                  @TempDir Path withoutDir) {
        List<EmbeddingBatch> job0 = LOG.stream().filter(b -> b.getJobId().equals("job-0")).toList();
        try (TopologyFixture upgraded = new TopologyFixture(settings(), upgradedDir);
             TopologyFixture without = new TopologyFixture(settings(), withoutDir)) {
            byte[] wrongMagicByte = {7, 0, 0, 0, 1, 2, 4, 6};
            rawJobsTable(upgraded).put(Bytes.wrap("job-0".getBytes(StandardCharsets.UTF_8)),
                    ByteBuffer.allocate(8 + wrongMagicByte.length).putLong(1_700_000_000_000L).put(wrongMagicByte).array());
            job0.forEach(upgraded::send);
            job0.forEach(without::send);

            assertThat(upgraded.dlq.readRecordsToList()).isEmpty();
            List<MinedBatch> mined = upgraded.output.readValuesToList().stream().map(StateUpgradeTest::timeless).toList();
            assertThat(mined).extracting(MinedBatch::getBatchId).containsAll(
                    job0.stream().map(EmbeddingBatch::getBatchId).toList());
            assertThat(mined).isEqualTo(
                    without.output.readValuesToList().stream().map(StateUpgradeTest::timeless).toList());
        }
    }

    /** The jobs table's bytes, below the layer that decodes them: what a release's restore wrote to. */
    @SuppressWarnings("unchecked")
    private static KeyValueStore<Bytes, byte[]> rawJobsTable(TopologyFixture f) {
        Object metered = f.driver.getTimestampedKeyValueStore(MiningTopology.JOB_CONFIG_STORE);
        return (KeyValueStore<Bytes, byte[]>) ((WrappedStateStore<?, ?, ?>) metered).wrapped();
    }

    @Test
    void aValueOfANewerVersionIsAnErrorNotAMisreading(@TempDir Path stateDir) {
        byte[] newer = HEX.parseHex(fixture(MiningTopology.STATS_STORE).get(0)[2]);
        newer[0] = 2;
        assertThatThrownBy(() -> StatsAccumulator.serde().deserializer().deserialize("t", newer))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("format version 2");
        byte[] newerDim = {2, 0, 0, 0, 8};
        assertThatThrownBy(() -> ShardSplitter.jobDimSerde().deserializer().deserialize("t", newerDim))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("format version 2");

        try (TopologyFixture f = new TopologyFixture(settings(), stateDir)) {
            restore(f, MemoryStore.NAME);
            KeyValueStore<Bytes, byte[]> store = f.driver.getKeyValueStore(MemoryStore.NAME);
            Bytes counters = Bytes.wrap("job-0#0\0".getBytes(StandardCharsets.UTF_8));
            byte[] value = store.get(counters);
            value[0] = 2;
            store.put(counters, value);
            assertThatThrownBy(() -> new MemoryStore(store).load("job-0#0", new MemoryLimits(2, 0, 0)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("format version 2");
        }
    }
}
