package dev.hardmine.mining;

import static dev.hardmine.mining.MiningAssertions.assertSameResult;
import static dev.hardmine.mining.MiningAssertions.assertSameStatistics;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.mining.RandomJobs.Values;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The miner against {@link MiningReference} on random jobs whose distances are exact in float,
 * so that the two must agree bit for bit: the same triplets in the same order, the same counts,
 * losses to 1e-5 relative. Random memory limits (including none) exercise the eviction rules,
 * re-published ids the replacement rule, duplicate values the tie rule.
 */
class ReferenceAgreementTest {
    private static final int SEEDS = 12;

    /** A distance with embedding values that keep it exact. */
    enum ExactSetup {
        EUCLIDEAN(Distance.EUCLIDEAN, false, Values.SMALL_INTEGERS),
        SQUARED_EUCLIDEAN(Distance.SQUARED_EUCLIDEAN, false, Values.SMALL_INTEGERS),
        COSINE(Distance.COSINE, false, Values.POWER_OF_TWO_NORMS),
        COSINE_NORMALIZED(Distance.COSINE, true, Values.POWER_OF_TWO_NORMS),
        EUCLIDEAN_NORMALIZED(Distance.EUCLIDEAN, true, Values.POWER_OF_TWO_NORMS);

        final Distance distance;
        final boolean normalize;
        final Values values;

        ExactSetup(Distance distance, boolean normalize, Values values) {
            this.distance = distance;
            this.normalize = normalize;
            this.values = values;
        }
    }

    static Stream<Arguments> deterministicStrategies() {
        List<Arguments> cases = new ArrayList<>();
        Object[][] strategies = {
            {Strategy.BATCH_HARD, 0}, {Strategy.HARD, 0}, {Strategy.HARD, 3}, {Strategy.SEMI_HARD, 0},
            {Strategy.SEMI_HARD, 2}, {Strategy.EASY, 0}, {Strategy.EASY, 4}, {Strategy.ALL, 0}, {Strategy.ALL, 1},
            {Strategy.N_PAIR, 0},
        };
        for (Object[] s : strategies) {
            for (ExactSetup setup : ExactSetup.values()) {
                LongStream.range(0, SEEDS).forEach(seed -> cases.add(Arguments.of(s[0], s[1], setup, seed)));
            }
        }
        return cases.stream();
    }

    static Stream<Arguments> distanceWeighted() {
        List<Arguments> cases = new ArrayList<>();
        for (int maxPerAnchor : new int[] {0, 2}) {
            for (ExactSetup setup : ExactSetup.values()) {
                LongStream.range(0, SEEDS).forEach(seed -> cases.add(Arguments.of(maxPerAnchor, setup, seed)));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} max-per-anchor {1}, {2}, seed {3}")
    @MethodSource("deterministicStrategies")
    void minerAgreesWithBruteForceReference(Strategy strategy, int maxPerAnchor, ExactSetup setup, long seed) {
        Random random = new Random(seed * 31 + strategy.ordinal());
        MiningSettings settings = settings(random, setup).withStrategy(strategy).withMaxPerAnchor(maxPerAnchor);
        MemoryLimits limits = limits(random);
        MiningReference reference = new MiningReference(limits);
        try (JobMiner miner = new JobMiner(limits)) {
            for (SampleBatch batch : RandomJobs.batches(seed, setup.values)) {
                String context = batch.batchId() + " " + settings + " " + limits;
                assertSameResult(miner.mine(batch, settings), reference.mine(batch, settings), context);
                assertThat(MiningAssertions.entryIds(miner.memory().entries())).as(context + ": memory")
                        .containsExactlyElementsOf(reference.entries().stream().map(MiningReference.Entry::id).toList());
            }
        }
    }

    /**
     * Distance-weighted draws are random, so per anchor: one triplet per positive, positives in
     * insertion order (at most max-per-anchor), when the anchor has a negative closer than 1.4;
     * each drawn negative is of another label, closer than 1.4, at the reference's distance.
     */
    @ParameterizedTest(name = "max-per-anchor {0}, {1}, seed {2}")
    @MethodSource("distanceWeighted")
    void distanceWeightedDrawsAreAmongTheReferenceCandidates(int maxPerAnchor, ExactSetup setup, long seed) {
        Random random = new Random(seed * 31 + 7);
        MiningSettings settings = settings(random, setup).withStrategy(Strategy.DISTANCE_WEIGHTED)
                .withMaxPerAnchor(maxPerAnchor).withSeed(seed);
        MemoryLimits limits = limits(random);
        MiningReference reference = new MiningReference(limits);
        try (JobMiner miner = new JobMiner(limits)) {
            for (SampleBatch batch : RandomJobs.batches(seed, setup.values)) {
                String context = batch.batchId() + " " + settings + " " + limits;
                MiningResult actual = miner.mine(batch, settings);
                MiningResult expected = reference.mine(batch, settings);
                assertSameStatistics(actual.stats(), expected.stats(), false, context);

                // Per anchor in batch order: its positives in insertion order, one draw each.
                List<MiningReference.Entry[]> expectedPairs = new ArrayList<>();
                List<MiningReference.Entry> memory = reference.entries();
                for (MiningReference.Entry a : MiningReference.ingest(batch, settings.normalize())) {
                    List<MiningReference.Entry> positives = memory.stream()
                            .filter(e -> e.label().equals(a.label()) && !e.id().equals(a.id())).toList();
                    boolean drawable = memory.stream().anyMatch(e -> !e.label().equals(a.label())
                            && MiningReference.distance(setup.distance, a.embedding(), e.embedding()) < 1.4f);
                    if (drawable) {
                        int take = maxPerAnchor > 0 ? Math.min(maxPerAnchor, positives.size()) : positives.size();
                        positives.subList(0, take).forEach(p -> expectedPairs.add(new MiningReference.Entry[] {a, p}));
                    }
                }
                assertThat(actual.triplets()).as(context).hasSameSizeAs(expectedPairs);
                double sumAp = 0;
                double sumAn = 0;
                for (int t = 0; t < expectedPairs.size(); t++) {
                    MinedTriplet got = actual.triplets().get(t);
                    MiningReference.Entry a = expectedPairs.get(t)[0];
                    MiningReference.Entry p = expectedPairs.get(t)[1];
                    assertThat(List.of(got.anchorId(), got.positiveId(), got.anchorLabel()))
                            .as(context).isEqualTo(List.of(a.id(), p.id(), a.label()));
                    assertThat(got.dAp()).isEqualTo(MiningReference.distance(setup.distance, a.embedding(), p.embedding()));
                    assertThat(got.positiveStep()).isEqualTo(p.step());
                    MiningReference.Entry n = memory.stream().filter(e -> e.id().equals(got.negativeId()))
                            .findFirst().orElseThrow();
                    assertThat(n.label()).isNotEqualTo(a.label()).isEqualTo(got.negativeLabel());
                    assertThat(got.dAn()).isEqualTo(MiningReference.distance(setup.distance, a.embedding(), n.embedding()))
                            .isLessThan(1.4f);
                    assertThat(got.negativeStep()).isEqualTo(n.step());
                    sumAp += got.dAp();
                    sumAn += got.dAn();
                }
                int count = expectedPairs.size();
                MiningAssertions.assertClose(actual.stats().meanDAp(), count == 0 ? 0 : sumAp / count, "mean_d_ap");
                MiningAssertions.assertClose(actual.stats().meanDAn(), count == 0 ? 0 : sumAn / count, "mean_d_an");
            }
        }
    }

    /** Margins that fall exactly on gaps of the exact setups: boundary cases happen. */
    static MiningSettings settings(Random random, ExactSetup setup) {
        float[] margins = {0f, 0.25f, 0.5f, 1f, 2f};
        return MiningSettings.defaults()
                .withDistance(setup.distance)
                .withNormalize(setup.normalize)
                .withMargin(margins[random.nextInt(margins.length)])
                .withNegativesPerAnchor(1 + random.nextInt(4))
                .withMemorySampling(memorySampling(random));
    }

    /**
     * None a third of the time; otherwise up to 5 negatives and 3 positives per anchor, within a
     * bound that cuts the selection short (≈ 6 samples of the small setups) or never does.
     */
    static MemorySampling memorySampling(Random random) {
        if (random.nextInt(3) == 0) {
            return MemorySampling.NONE;
        }
        int maxBytes = random.nextBoolean() ? 150 : MemorySampling.DEFAULT_MAX_BYTES;
        return new MemorySampling(random.nextInt(6), random.nextInt(4), maxBytes);
    }

    /** No limit half of the time; otherwise tight limits that evict in most batches. */
    static MemoryLimits limits(Random random) {
        if (random.nextBoolean()) {
            return MemoryLimits.unbounded();
        }
        int[] perIdentity = {0, 1, 2, 4};
        int[] max = {0, 6, 15, 40};
        long[] age = {0, 1, 3};
        return new MemoryLimits(perIdentity[random.nextInt(4)], max[random.nextInt(4)], age[random.nextInt(3)]);
    }
}
