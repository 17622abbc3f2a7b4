package dev.hardmine.mining;

import static dev.hardmine.mining.Batches.batch;
import static dev.hardmine.mining.Batches.mineInOrder;
import static dev.hardmine.mining.MiningAssertions.assertSameStatistics;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.hardmine.mining.RandomJobs.Values;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * docs/DESIGN.md §2 on float data, where nothing is exact: distances against a double-precision
 * computation, mining against the reference up to rounding, and normalisation.
 */
class DistanceTest {

    /**
     * Cosine distances lie in [0, 2]: within 1e-5. Euclidean distances come from the expansion
     * |a|² + |y|² − 2a·y in float (as PyTorch's mm-based cdist computes them), whose error scales
     * with the norms, not with the distance: the squared distance is within 1e-6 (1 + |a|² + |y|²).
     */
    private static void assertDistance(float actual, float[] a, float[] y, Distance distance, String what) {
        if (distance == Distance.COSINE) {
            assertThat((double) actual).as(what).isCloseTo(MiningReference.distance(distance, a, y), within(1e-5));
            return;
        }
        double scale = 1e-6 * (1 + MiningReference.distance(Distance.SQUARED_EUCLIDEAN, a, new float[a.length])
                + MiningReference.distance(Distance.SQUARED_EUCLIDEAN, y, new float[y.length]));
        double squared = distance == Distance.EUCLIDEAN ? (double) actual * actual : actual;
        double expectedSquared = MiningReference.distance(Distance.SQUARED_EUCLIDEAN, a, y);
        assertThat(squared).as(what).isCloseTo(expectedSquared, within(scale));
    }

    /**
     * With strategy {@code all} and a huge margin every (a, p, n) of a valid anchor is emitted, so
     * every positive and negative distance the miner computes is reported and checked.
     */
    @ParameterizedTest
    @EnumSource(Distance.class)
    void reportedDistancesMatchDoublePrecision(Distance distance) {
        MiningSettings settings = MiningSettings.defaults().withStrategy(Strategy.ALL).withMargin(1e6f)
                .withDistance(distance);
        long checked = 0;
        for (long seed = 0; seed < 6; seed++) {
            Map<String, float[]> embeddings = new HashMap<>();
            try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
                for (SampleBatch b : RandomJobs.batches(seed, Values.GAUSSIAN)) {
                    MiningReference.ingest(b, false).forEach(e -> embeddings.put(e.id(), e.embedding()));
                    for (MinedTriplet t : miner.mine(b, settings).triplets()) {
                        float[] a = embeddings.get(t.anchorId());
                        assertDistance(t.dAp(), a, embeddings.get(t.positiveId()), distance, t.toString());
                        assertDistance(t.dAn(), a, embeddings.get(t.negativeId()), distance, t.toString());
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isGreaterThan(1000);
    }

    /**
     * Gaussian data, where ties and gaps on a class boundary are improbable: the miner selects
     * the same triplets as the double-precision reference and counts the same classes; losses
     * agree to 1e-5. The hardness-class strategies are compared as sets, since gaps that differ by
     * an ulp may legitimately swap places.
     */
    @ParameterizedTest
    @EnumSource(Distance.class)
    void floatDataAgreesWithTheReferenceUpToRounding(Distance distance) {
        for (Strategy strategy : List.of(Strategy.BATCH_HARD, Strategy.N_PAIR, Strategy.HARD, Strategy.SEMI_HARD,
                Strategy.EASY, Strategy.ALL)) {
            MiningSettings settings = MiningSettings.defaults().withStrategy(strategy).withDistance(distance)
                    .withMargin(distance == Distance.SQUARED_EUCLIDEAN ? 4f : 0.3f).withNegativesPerAnchor(3);
            for (long seed = 0; seed < 6; seed++) {
                MemoryLimits limits = new MemoryLimits(5, 50, 2);
                MiningReference reference = new MiningReference(limits);
                try (JobMiner miner = new JobMiner(limits)) {
                    for (SampleBatch b : RandomJobs.batches(seed, Values.GAUSSIAN)) {
                        String context = strategy + " seed " + seed + " " + b.batchId();
                        MiningResult actual = miner.mine(b, settings);
                        MiningResult expected = reference.mine(b, settings);
                        assertSameStatistics(actual.stats(), expected.stats(), false, context);
                        List<String> actualIds = MiningAssertions.ids(actual.triplets());
                        List<String> expectedIds = MiningAssertions.ids(expected.triplets());
                        if (strategy == Strategy.BATCH_HARD || strategy == Strategy.N_PAIR) {
                            assertThat(actualIds).as(context).containsExactlyElementsOf(expectedIds);
                        } else {
                            assertThat(actualIds).as(context).containsExactlyInAnyOrderElementsOf(expectedIds);
                        }
                    }
                }
            }
        }
    }

    /** Cosine ignores length, so normalising first changes no triplet and no distance beyond 1e-6. */
    @ParameterizedTest
    @EnumSource(value = Strategy.class, names = {"BATCH_HARD", "ALL", "N_PAIR"})
    void cosineGivesTheSameTripletsWithAndWithoutNormalize(Strategy strategy) {
        MiningSettings raw = MiningSettings.defaults().withStrategy(strategy).withDistance(Distance.COSINE)
                .withMargin(0.3f).withNegativesPerAnchor(3);
        MiningSettings normalized = raw.withNormalize(true);
        for (long seed = 0; seed < 6; seed++) {
            try (JobMiner a = new JobMiner(MemoryLimits.unbounded()); JobMiner b = new JobMiner(MemoryLimits.unbounded())) {
                for (SampleBatch batch : RandomJobs.batches(seed, Values.GAUSSIAN)) {
                    List<MinedTriplet> x = a.mine(batch, raw).triplets();
                    List<MinedTriplet> y = b.mine(batch, normalized).triplets();
                    if (strategy == Strategy.ALL) {
                        assertThat(MiningAssertions.ids(y)).containsExactlyInAnyOrderElementsOf(MiningAssertions.ids(x));
                        continue;
                    }
                    assertThat(y).hasSameSizeAs(x);
                    for (int i = 0; i < x.size(); i++) {
                        assertThat(List.of(y.get(i).anchorId(), y.get(i).positiveId(), y.get(i).negativeId()))
                                .isEqualTo(List.of(x.get(i).anchorId(), x.get(i).positiveId(), x.get(i).negativeId()));
                        assertThat(y.get(i).dAp()).isCloseTo(x.get(i).dAp(), within(1e-6f));
                        assertThat(y.get(i).dAn()).isCloseTo(x.get(i).dAn(), within(1e-6f));
                    }
                }
            }
        }
    }

    /**
     * Normalize with euclidean: a (3, 4) is stored as (0.6, 0.8); p (0, 2) as (0, 1), at
     * √(0.36 + 0.04) = √0.4; n (−5, 0) as (−1, 0), at √(2.56 + 0.64) = √3.2.
     */
    @Test
    void normalizeScalesEmbeddingsToUnitLengthBeforeEuclidean() {
        MiningSettings settings = MiningSettings.defaults().withNormalize(true);
        try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
            MiningResult r = miner.mine(batch("b", 1, "a:A:3,4", "p:A:0,2", "n:B:-5,0"), settings);
            assertThat(miner.memory().entries().get(0).embedding()[0]).isCloseTo(0.6f, within(1e-7f));
            assertThat(miner.memory().entries().get(0).embedding()[1]).isCloseTo(0.8f, within(1e-7f));
            MinedTriplet t = r.triplets().get(0);
            assertThat(t.anchorId()).isEqualTo("a");
            assertThat((double) t.dAp()).isCloseTo(Math.sqrt(0.4), within(1e-6));
            assertThat((double) t.dAn()).isCloseTo(Math.sqrt(3.2), within(1e-6));
        }
    }

    /** A zero vector has no direction: cosine puts it at distance 1 from everything (PML's eps-normalisation does too). */
    @Test
    void zeroVectorIsAtCosineDistanceOne() {
        MiningResult r = mineInOrder(MiningSettings.defaults().withDistance(Distance.COSINE),
                batch("b", 1, "a:A:1,0", "p:A:0,0", "n:B:-3,0"));
        MinedTriplet t = r.triplets().get(0);
        assertThat(t.positiveId()).isEqualTo("p");
        assertThat(t.dAp()).isEqualTo(1f);
        assertThat(t.dAn()).isEqualTo(2f);
    }

    /** {@code semiHardBound} is exactly the largest d_an whose float gap to d_ap is within the margin. */
    @Test
    void semiHardBoundIsTheExactThresholdOfTheFloatGap() {
        Random random = new Random(2);
        for (int i = 0; i < 20_000; i++) {
            float dAp = (float) (random.nextDouble() * Math.pow(10, random.nextInt(7) - 3));
            float margin = random.nextInt(5) == 0 ? 0f : (float) (random.nextDouble() * Math.pow(10, random.nextInt(5) - 3));
            float bound = TripletClass.semiHardBound(dAp, margin);
            assertThat(bound - dAp).isLessThanOrEqualTo(margin);
            assertThat(Math.nextUp(bound) - dAp).as("d_ap %s margin %s", dAp, margin).isGreaterThan(margin);
            assertThat(TripletClass.of(dAp, bound, margin)).isNotEqualTo(TripletClass.EASY);
            assertThat(TripletClass.of(dAp, Math.nextUp(bound), margin)).isEqualTo(TripletClass.EASY);
        }
    }
}
