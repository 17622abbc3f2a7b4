package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.avro.Triplet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class StatsAccumulatorTest {

    private static MinedBatch mined(float margin, double... gaps) {
        List<Triplet> triplets = new ArrayList<>();
        for (double gap : gaps) {
            triplets.add(Triplet.newBuilder().setAnchorId("a").setPositiveId("p").setNegativeId("n")
                    .setAnchorLabel("x").setNegativeLabel("y").setDAp(1.0f).setDAn((float) (1.0 + gap))
                    .setPositiveStep(3).setNegativeStep(4).build());
        }
        BatchStats stats = BatchStats.newBuilder().setAnchors(gaps.length).setValidAnchors(gaps.length).setHard(1)
                .setSemiHard(1).setEasy(1).setLossBatchHard(0.2).setLossSemiHard(0.1).setLossWeighted(0.05)
                .setMeanDAp(1.0).setMeanDAn(1.1).setMemorySize(100).setMemoryIdentities(10).setMiningMs(2).build();
        return MinedBatch.newBuilder().setJobId("job").setBatchId("b").setWorkerId("w").setStep(5)
                .setStrategy("batch-hard").setMargin(margin).setDistance("euclidean")
                .setMinedAt(Instant.ofEpochMilli(2_000)).setProducedAt(Instant.ofEpochMilli(1_900))
                .setTriplets(triplets).setStats(stats).build();
    }

    private static long[] counts(MiningStats s) {
        return s.getGapCounts().stream().mapToLong(Long::longValue).toArray();
    }

    @Test
    void theThinRecordOfTheStatsRepartitionGivesTheSameStatistics() {
        MinedBatch full = mined(0.2f, -0.12, -0.01, 0.01, 0.18, 0.22, 5.0, -5.0);
        MinedBatch thin = MinedBatches.forStats(full);

        assertThat(thin.getTriplets()).allSatisfy(t -> assertThat(t.getAnchorId() + t.getNegativeLabel()).isEmpty());
        assertThat(thin.getMemorySamples()).isEmpty();
        assertThat(new StatsAccumulator().add(thin).add(thin).toMiningStats("job", 0, 2_000))
                .isEqualTo(new StatsAccumulator().add(full).add(full).toMiningStats("job", 0, 2_000));
    }

    @Test
    void binsGapsInQuarterMarginsAroundZero() {
        // margin 0.2: unit 0.2, inner bins of 0.05 from -0.8 to +0.8
        MiningStats s = new StatsAccumulator()
                .add(mined(0.2f, -0.12, -0.01, 0.01, 0.18, 0.22, 5.0, -5.0))
                .toMiningStats("job", 0, 2_000);

        assertThat(s.getMargin()).isCloseTo(0.2, offset(1e-6));
        assertThat(s.getGapLow()).isCloseTo(-0.8, offset(1e-7));
        assertThat(s.getGapWidth()).isCloseTo(0.05, offset(1e-7));
        long[] c = counts(s);
        assertThat(c).hasSize(StatsAccumulator.GAP_BINS + 2);
        assertThat(Arrays.stream(c).sum()).isEqualTo(7);
        assertThat(c[0]).as("below -4 margins").isEqualTo(1);
        assertThat(c[c.length - 1]).as("at or above +4 margins").isEqualTo(1);
        // bin i covers [-0.8 + (i-1)*0.05, -0.8 + i*0.05): -0.12 -> 14, -0.01 -> 16, 0.01 -> 17, 0.18 -> 20, 0.22 -> 21
        assertThat(c[14]).isEqualTo(1);
        assertThat(c[16]).isEqualTo(1);
        assertThat(c[17]).isEqualTo(1);
        assertThat(c[20]).isEqualTo(1);
        assertThat(c[21]).isEqualTo(1);
    }

    @Test
    void aWindowWithoutTripletsHasAnEmptyHistogram() {
        MiningStats s = new StatsAccumulator().add(mined(0.2f)).toMiningStats("job", 0, 2_000);
        assertThat(s.getGapCounts()).isEmpty();
    }

    @Test
    void laterBatchesKeepTheFirstBatchsBinsButReportTheLatestMargin() {
        MiningStats s = new StatsAccumulator().add(mined(0.2f, 0.0)).add(mined(0.4f, 0.0))
                .toMiningStats("job", 0, 2_000);
        assertThat(s.getGapWidth()).isCloseTo(0.05, offset(1e-7));
        assertThat(s.getMargin()).isCloseTo(0.4, offset(1e-6));
        assertThat(counts(s)[17]).isEqualTo(2);
    }

    @Test
    void aMarginOfZeroBinsInTenthsOfDistance() {
        MiningStats s = new StatsAccumulator().add(mined(0f, 0.03)).toMiningStats("job", 0, 2_000);
        assertThat(s.getGapWidth()).isCloseTo(0.025, offset(1e-9));
        assertThat(counts(s)[18]).as("0.03 falls in [0.025, 0.05)").isEqualTo(1);
    }

    @Test
    void theStoreSerdeKeepsEverything() {
        Serde<StatsAccumulator> serde = StatsAccumulator.serde();
        StatsAccumulator a = new StatsAccumulator().add(mined(0.2f, -0.3, 0.1, 0.5)).add(mined(0.2f, 0.05));
        StatsAccumulator b = serde.deserializer().deserialize("t", serde.serializer().serialize("t", a));
        assertThat(b.toMiningStats("job", 0, 2_000)).isEqualTo(a.toMiningStats("job", 0, 2_000));
    }

    @Test
    void readsAccumulatorsStoredBeforeTheHistogramExisted() {
        Serde<StatsAccumulator> serde = StatsAccumulator.serde();
        StatsAccumulator a = new StatsAccumulator().add(mined(0.2f, 0.11));
        byte[] bytes = serde.serializer().serialize("t", a);
        int histogramBytes = 8 * 2 + 8 * (StatsAccumulator.GAP_BINS + 2);
        // The unversioned layout, cut before the histogram (see StateUpgradeTest for the bytes of a release).
        byte[] old = Arrays.copyOfRange(bytes, 1, bytes.length - histogramBytes);

        StatsAccumulator b = serde.deserializer().deserialize("t", old);
        MiningStats s = b.add(mined(0.2f, 0.11)).toMiningStats("job", 0, 2_000);
        assertThat(s.getBatches()).isEqualTo(2);
        assertThat(counts(s)).as("only the batch added after reading is in the histogram")
                .containsOnlyOnce(1L).contains(0L);
        assertThat(counts(s)[19]).as("0.11 falls in [0.1, 0.15)").isEqualTo(1);
    }
}
