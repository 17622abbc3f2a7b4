package dev.hardmine.mining;

import static dev.hardmine.mining.MiningAssertions.assertIdentical;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Distance-weighted sampling (Wu et al. 2017; PML DistanceWeightedMiner): negatives drawn with
 * probability ∝ 1/q(d), q(d) ∝ d^(n−2) (1 − d²/4)^((n−3)/2), d clamped below at 0.5, weight 0
 * at d ≥ 1.4; seeded, so replays draw the same.
 */
class DistanceWeightedTest {
    private static final MiningSettings SETTINGS = MiningSettings.defaults()
            .withStrategy(Strategy.DISTANCE_WEIGHTED).withNormalize(true);

    /** Normalised Gaussian points in 3-D, 3 labels: most pairs are closer than 1.4. */
    private static List<SampleBatch> job() {
        Random random = new Random(5);
        SampleBatch memory = gaussian(random, "m", 1, 60);
        SampleBatch batch = gaussian(random, "q", 2, 24);
        return List.of(memory, batch);
    }

    private static SampleBatch gaussian(Random random, String prefix, long step, int n) {
        String[] ids = new String[n];
        String[] labels = new String[n];
        float[] values = new float[n * 3];
        for (int i = 0; i < n; i++) {
            ids[i] = prefix + i;
            labels[i] = "L" + random.nextInt(3);
            for (int k = 0; k < 3; k++) {
                values[i * 3 + k] = (float) random.nextGaussian();
            }
        }
        return new SampleBatch(prefix, "w", step, 3, ids, labels, values);
    }

    private static MiningResult mineJob(MiningSettings settings) {
        try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
            MiningResult last = null;
            for (SampleBatch b : job()) {
                last = miner.mine(b, settings);
            }
            return last;
        }
    }

    @Test
    void sameSeedDrawsTheSameNegatives() {
        MiningResult first = mineJob(SETTINGS.withSeed(3));
        assertThat(first.triplets()).hasSizeGreaterThan(100);
        assertIdentical(mineJob(SETTINGS.withSeed(3)), first, "replay");
    }

    /** About 300 draws, each among ~25 candidates: another seed changes most of them. */
    @Test
    void differentSeedDrawsDifferentNegatives() {
        List<MinedTriplet> a = mineJob(SETTINGS.withSeed(3)).triplets();
        List<MinedTriplet> b = mineJob(SETTINGS.withSeed(4)).triplets();
        assertThat(b).hasSameSizeAs(a);
        long differing = 0;
        for (int i = 0; i < a.size(); i++) {
            assertThat(b.get(i).positiveId()).isEqualTo(a.get(i).positiveId());
            if (!b.get(i).negativeId().equals(a.get(i).negativeId())) {
                differing++;
            }
        }
        assertThat(differing).isGreaterThan(a.size() / 2);
    }

    @Test
    void drawsOnlyOtherIdentitiesCloserThanTheCutoff() {
        for (long seed = 0; seed < 5; seed++) {
            for (MinedTriplet t : mineJob(SETTINGS.withSeed(seed)).triplets()) {
                assertThat(t.negativeLabel()).isNotEqualTo(t.anchorLabel());
                assertThat(t.dAn()).isLessThan(1.4f);
            }
        }
    }

    /**
     * Anchor a at the origin of n-D space, 4000 positives far away, negatives on the first axis
     * at 0.25 (clamped to 0.5), 0.5, 1 and 1.5 (weight 0), euclidean, no normalisation. Each
     * positive draws one negative; frequencies match w(d) = d^(2−n) (1 − d²/4)^(−(n−3)/2)
     * normalised — in 3-D, 2 : 2 : 1 — within 4 standard deviations.
     */
    @ParameterizedTest(name = "dim {0}")
    @ValueSource(ints = {3, 5, 8})
    void drawsNegativesWithProbabilityInverseToTheSphereDensity(int dim) {
        int positives = 4000;
        String[] ids = new String[positives];
        String[] labels = new String[positives];
        float[][] rows = new float[positives][];
        for (int i = 0; i < positives; i++) {
            ids[i] = "p" + i;
            labels[i] = "A";
            rows[i] = new float[dim];
            rows[i][dim - 1] = 5f;
        }
        String[] negIds = {"n0.25", "n0.5", "n1", "n1.5"};
        float[] negAt = {0.25f, 0.5f, 1f, 1.5f};
        float[][] negRows = new float[4][];
        for (int j = 0; j < 4; j++) {
            negRows[j] = new float[dim];
            negRows[j][0] = negAt[j];
        }
        MiningSettings settings = MiningSettings.defaults().withStrategy(Strategy.DISTANCE_WEIGHTED).withSeed(11);
        Map<String, Integer> drawn = new HashMap<>();
        try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
            miner.mine(Batches.batch("b1", 1, ids, labels, rows), settings);
            miner.mine(Batches.batch("b2", 1, negIds, new String[] {"B", "C", "B", "C"}, negRows), settings);
            MiningResult r = miner.mine(Batches.batch("b3", 1, new String[] {"a"}, new String[] {"A"},
                    new float[][] {new float[dim]}), settings);
            assertThat(r.triplets()).hasSize(positives);
            r.triplets().forEach(t -> drawn.merge(t.negativeId(), 1, Integer::sum));
        }
        double[] w = new double[3];
        double total = 0;
        for (int j = 0; j < 3; j++) {
            double d = Math.max(0.5, negAt[j]);
            w[j] = Math.pow(d, 2 - dim) * Math.pow(1 - d * d / 4, -(dim - 3) / 2.0);
            total += w[j];
        }
        for (int j = 0; j < 3; j++) {
            double p = w[j] / total;
            double sigma = Math.sqrt(p * (1 - p) / positives);
            assertThat(drawn.getOrDefault(negIds[j], 0) / (double) positives).as(negIds[j])
                    .isCloseTo(p, within(4 * sigma));
        }
        assertThat(drawn).doesNotContainKey("n1.5");
    }

    /** An anchor whose negatives are all at 1.4 or farther draws nothing: a at 0, p at 1, n at 2. */
    @Test
    void anchorWithoutNegativeCloserThanTheCutoffDrawsNothing() {
        MiningResult r = Batches.mineInOrder(MiningSettings.defaults().withStrategy(Strategy.DISTANCE_WEIGHTED),
                Batches.batch("b", 1, "a:A:0", "p:A:1", "n:B:2"));
        assertThat(Batches.tripletsOf(r, "a")).isEmpty();
        assertThat(r.stats().validAnchors()).isEqualTo(2);
    }
}
