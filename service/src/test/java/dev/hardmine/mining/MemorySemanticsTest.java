package dev.hardmine.mining;

import static dev.hardmine.mining.Batches.batch;
import static dev.hardmine.mining.MiningAssertions.assertSameResult;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.mining.ReferenceAgreementTest.ExactSetup;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The cross-batch memory as docs/DESIGN.md §1 defines it: what each batch is mined against. */
class MemorySemanticsTest {

    static Stream<Arguments> strategiesAndSetups() {
        List<Arguments> cases = new ArrayList<>();
        for (Strategy s : Strategy.values()) {
            if (s != Strategy.DISTANCE_WEIGHTED) {
                for (ExactSetup setup : ExactSetup.values()) {
                    cases.add(Arguments.of(s, setup));
                }
            }
        }
        return cases.stream();
    }

    /**
     * With unbounded memory, each batch of a job is mined against every sample seen so far
     * (the latest version of each re-published id, in the order they last entered): the
     * stateless reference given that history agrees with the miner, batch after batch.
     */
    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("strategiesAndSetups")
    void unboundedMemoryMinesEachBatchAgainstEverySampleSeenSoFar(Strategy strategy, ExactSetup setup) {
        MiningSettings settings = MiningSettings.defaults().withStrategy(strategy).withDistance(setup.distance)
                .withNormalize(setup.normalize).withMargin(0.5f).withMaxPerAnchor(2).withNegativesPerAnchor(2);
        for (long seed = 100; seed < 104; seed++) {
            Map<String, MiningReference.Entry> history = new LinkedHashMap<>();
            try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
                for (SampleBatch b : RandomJobs.batches(seed, setup.values)) {
                    List<MiningReference.Entry> anchors = MiningReference.ingest(b, settings.normalize());
                    for (MiningReference.Entry e : anchors) {
                        history.remove(e.id());
                        history.put(e.id(), e);
                    }
                    MiningResult expected = MiningReference.mineAgainst(
                            new ArrayList<>(history.values()), anchors, settings, List.of());
                    assertSameResult(miner.mine(b, settings), expected, "seed " + seed + " " + b.batchId());
                }
            }
        }
    }

    /**
     * Sizes after enqueueing. Batch 1: a1, a2 (A), b1, b2 (B): 4 entries, 2 identities.
     * Batch 2: a1 re-published as C and d1 (D): a2, b1, b2, a1, d1 — 5 entries, identities A, B, C, D.
     * Batch 3 (per identity 1 from now on): b3 (B) evicts b1 and b2, leaving a2, a1, d1, b3.
     */
    @Test
    void memorySizeAndIdentitiesAreCountedAfterEnqueueing() {
        MiningSettings settings = MiningSettings.defaults();
        try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
            BatchStatistics s1 = miner.mine(batch("b1", 1, "a1:A:0", "a2:A:1", "b1:B:2", "b2:B:3"), settings).stats();
            assertThat(s1.memorySize()).isEqualTo(4);
            assertThat(s1.memoryIdentities()).isEqualTo(2);

            BatchStatistics s2 = miner.mine(batch("b2", 2, "a1:C:0", "d1:D:5"), settings).stats();
            assertThat(s2.memorySize()).isEqualTo(5);
            assertThat(s2.memoryIdentities()).isEqualTo(4);

            miner.setLimits(new MemoryLimits(1, 0, 0));
            BatchStatistics s3 = miner.mine(batch("b3", 3, "b3:B:7"), settings).stats();
            assertThat(s3.memorySize()).isEqualTo(4);
            assertThat(s3.memoryIdentities()).isEqualTo(4);
            assertThat(MiningAssertions.entryIds(miner.memory().entries())).containsExactly("a2", "a1", "d1", "b3");
        }
    }

    /**
     * What a batch is mined against is the memory's content in insertion order, not how it came
     * to be: a memory shaped by replacements and evictions (so its internal layout is shuffled)
     * and a fresh one restored with the same entries in the same order give identical triplets and
     * counts — for distance-weighted sampling too. loss_weighted sums over the memory's layout, so
     * it agrees to rounding here; restored into the saved slots it agrees bit for bit (next test).
     */
    @ParameterizedTest
    @EnumSource(Strategy.class)
    void resultsDependOnMemoryContentNotOnItsHistory(Strategy strategy) {
        MiningSettings settings = MiningSettings.defaults().withStrategy(strategy).withDistance(Distance.EUCLIDEAN)
                .withNormalize(true).withMargin(0.5f).withMaxPerAnchor(3).withNegativesPerAnchor(2).withSeed(42);
        MemoryLimits limits = new MemoryLimits(3, 25, 0);
        int compared = 0;
        for (long seed = 200; seed < 210; seed++) {
            List<SampleBatch> batches = RandomJobs.batches(seed, RandomJobs.Values.POWER_OF_TWO_NORMS);
            if (batches.size() < 2) {
                continue;
            }
            try (JobMiner churned = new JobMiner(limits); JobMiner fresh = new JobMiner(limits)) {
                for (SampleBatch b : batches.subList(0, batches.size() - 1)) {
                    churned.mine(b, settings);
                }
                SampleBatch last = batches.get(batches.size() - 1);
                MemoryBank restored = new MemoryBank(last.dim(), limits);
                long seq = 0;
                for (MemoryBank.Entry e : churned.memory().entries()) {
                    restored.restore(e.sampleId(), e.label(), e.step(), seq++, e.embedding());
                }
                fresh.attach(restored);

                MiningResult expected = fresh.mine(last, settings);
                MiningResult actual = churned.mine(last, settings);
                assertThat(actual.triplets()).as("seed " + seed).isEqualTo(expected.triplets());
                assertThat(actual.evicted()).containsExactlyInAnyOrderElementsOf(expected.evicted());
                assertThat(withoutWeightedLoss(actual.stats())).isEqualTo(withoutWeightedLoss(expected.stats()));
                assertThat(actual.stats().lossWeighted())
                        .isCloseTo(expected.stats().lossWeighted(), org.assertj.core.api.Assertions.within(1e-6));
                compared += actual.triplets().size();
            }
        }
        assertThat(compared).as("triplets compared").isPositive();
    }

    private static BatchStatistics withoutWeightedLoss(BatchStatistics s) {
        BatchStatistics t = MiningAssertions.withoutTime(s);
        return new BatchStatistics(t.anchors(), t.validAnchors(), t.hard(), t.semiHard(), t.easy(), t.lossBatchHard(),
                t.lossSemiHard(), 0.0, t.meanDAp(), t.meanDAn(), t.memorySize(), t.memoryIdentities(), t.miningMs());
    }

    /**
     * A memory rebuilt entry by entry into the slots it held — as the stream's persisted copy does
     * after a restart — mines the next batch bit for bit like the memory it was saved from.
     */
    @ParameterizedTest
    @EnumSource(Strategy.class)
    void memoryRestoredIntoItsSlotsMinesBitForBitLikeTheOriginal(Strategy strategy) {
        MiningSettings settings = MiningSettings.defaults().withStrategy(strategy).withNormalize(true)
                .withMargin(0.5f).withMaxPerAnchor(3).withNegativesPerAnchor(2).withSeed(42);
        MemoryLimits limits = new MemoryLimits(3, 25, 0);
        int compared = 0;
        for (long seed = 200; seed < 210; seed++) {
            List<SampleBatch> batches = RandomJobs.batches(seed, RandomJobs.Values.GAUSSIAN);
            if (batches.size() < 2) {
                continue;
            }
            try (JobMiner original = new JobMiner(limits); JobMiner restarted = new JobMiner(limits)) {
                for (SampleBatch b : batches.subList(0, batches.size() - 1)) {
                    original.mine(b, settings);
                }
                MemoryBank saved = original.memory();
                MemoryBank restored = new MemoryBank(saved.dim(), limits);
                for (MemoryBank.Entry e : saved.entries()) {
                    restored.restoreAt(saved.slotOf(e.sampleId()), e.sampleId(), e.label(), e.step(), e.seq(),
                            e.embedding());
                }
                restored.finishRestore();
                restored.restoreCounters(saved.nextSeq(), saved.newestStep());
                restarted.attach(restored);

                SampleBatch last = batches.get(batches.size() - 1);
                MiningResult expected = original.mine(last, settings);
                MiningResult actual = restarted.mine(last, settings);
                assertThat(actual.triplets()).as("seed " + seed).isEqualTo(expected.triplets());
                assertThat(MiningAssertions.withoutTime(actual.stats())).isEqualTo(MiningAssertions.withoutTime(expected.stats()));
                compared += actual.triplets().size();
            }
        }
        assertThat(compared).as("triplets compared").isPositive();
    }
}
