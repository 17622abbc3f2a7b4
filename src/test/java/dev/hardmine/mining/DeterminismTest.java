package dev.hardmine.mining;

import static dev.hardmine.mining.MiningAssertions.assertIdentical;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.mining.RandomJobs.Values;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * DESIGN.md §6: the same input with the same settings gives the same output, except the
 * wall-clock {@code mining_ms} — however the anchors are scheduled on threads.
 */
class DeterminismTest {
    private static final MemoryLimits LIMITS = new MemoryLimits(4, 60, 3);

    private static MiningSettings settings(Strategy strategy) {
        return MiningSettings.defaults().withStrategy(strategy).withDistance(Distance.COSINE).withMargin(0.3f)
                .withMaxPerAnchor(strategy == Strategy.HARD ? 0 : 4).withNegativesPerAnchor(3).withSeed(7);
    }

    private static List<MiningResult> mineAll(JobMiner miner, List<SampleBatch> batches, MiningSettings settings) {
        List<MiningResult> out = new ArrayList<>();
        for (SampleBatch b : batches) {
            out.add(miner.mine(b, settings));
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void sameBatchesGiveTheSameResultsOnAFreshMiner(Strategy strategy) {
        for (long seed = 0; seed < 5; seed++) {
            List<SampleBatch> batches = RandomJobs.batches(seed, Values.GAUSSIAN);
            List<MiningResult> first;
            List<MiningResult> second;
            try (JobMiner miner = new JobMiner(LIMITS)) {
                first = mineAll(miner, batches, settings(strategy));
            }
            try (JobMiner miner = new JobMiner(LIMITS)) {
                second = mineAll(miner, batches, settings(strategy));
            }
            for (int i = 0; i < batches.size(); i++) {
                assertIdentical(second.get(i), first.get(i), "seed " + seed + " batch " + i);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void parallelAndSequentialScansGiveTheSameResults(Strategy strategy) {
        long triplets = 0;
        for (long seed = 0; seed < 5; seed++) {
            List<SampleBatch> batches = RandomJobs.batches(seed, Values.GAUSSIAN);
            try (JobMiner parallel = new JobMiner(LIMITS, true); JobMiner sequential = new JobMiner(LIMITS, false)) {
                for (SampleBatch b : batches) {
                    MiningResult p = parallel.mine(b, settings(strategy));
                    assertIdentical(p, sequential.mine(b, settings(strategy)), "seed " + seed + " " + b.batchId());
                    triplets += p.triplets().size();
                }
            }
        }
        assertThat(triplets).isPositive();
    }

    /** Two miners interleaved on the same threads do not see each other's per-thread scratch state. */
    @Test
    void interleavedJobsDoNotInterfere() {
        List<SampleBatch> jobA = RandomJobs.batches(11, Values.GAUSSIAN);
        List<SampleBatch> jobB = RandomJobs.batches(12, Values.GAUSSIAN);
        MiningSettings settings = settings(Strategy.N_PAIR);
        List<MiningResult> alone;
        try (JobMiner m = new JobMiner(LIMITS)) {
            alone = mineAll(m, jobA, settings);
        }
        try (JobMiner a = new JobMiner(LIMITS); JobMiner b = new JobMiner(LIMITS)) {
            for (int i = 0; i < jobA.size(); i++) {
                MiningResult r = a.mine(jobA.get(i), settings);
                if (i < jobB.size()) {
                    b.mine(jobB.get(i), settings.withStrategy(Strategy.EASY));
                }
                assertIdentical(r, alone.get(i), "batch " + i);
            }
        }
    }
}
