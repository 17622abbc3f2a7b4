package dev.hardmine.mining;

import static dev.hardmine.mining.Batches.batch;
import static dev.hardmine.mining.Batches.mineInOrder;
import static dev.hardmine.mining.Batches.tripletsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.hardmine.mining.RandomJobs.Values;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Boundary cases of docs/DESIGN.md §3–5, each worked out by hand (1-D points unless said otherwise). */
class EdgeCaseTest {
    private static final MiningSettings EUCLIDEAN_MARGIN_1 = MiningSettings.defaults().withMargin(1f);

    /**
     * a1 (A) at 0, b1 (B) at 1, b2 (B) at 3, margin 1. a1 has no positive: invalid, no triplet.
     * b1: d_ap 2, d_an 1 (gap −1, hard); b2: d_ap 2, d_an 3 (gap 1 = margin, semi-hard).
     */
    @Test
    void identityWithOneSampleIsNotAValidAnchor() {
        MiningResult r = mineInOrder(EUCLIDEAN_MARGIN_1, batch("b", 1, "a1:A:0", "b1:B:1", "b2:B:3"));
        assertThat(r.stats().anchors()).isEqualTo(3);
        assertThat(r.stats().validAnchors()).isEqualTo(2);
        assertThat(r.stats().hard()).isEqualTo(1);
        assertThat(r.stats().semiHard()).isEqualTo(1);
        assertThat(r.stats().easy()).isZero();
        assertThat(tripletsOf(r, "a1")).isEmpty();
        assertThat(tripletsOf(r, "b1")).containsExactly("b1,b2,a1");
        // loss_batch_hard over the 2 valid anchors: (2-1+1 + max(0, 2-3+1)) / 2
        assertThat(r.stats().lossBatchHard()).isCloseTo(1.0, within(1e-9));
    }

    /**
     * x0, x1, x2 (all A) at 0, 1, 3, margin 0.5: no anchor has a negative, so no triplet, no
     * valid anchor, zero counts and zero batch-hard and weighted losses. The semi-hard loss is
     * TF-Addons' with d_n = 0: over the 6 positive pairs (d_ap 1, 3, 1, 2, 3, 2),
     * (12 + 6 × 0.5) / 6 = 2.5.
     */
    @Test
    void batchOfOneLabelHasNoNegativesAndNoValidAnchor() {
        MiningResult r = mineInOrder(MiningSettings.defaults().withMargin(0.5f),
                batch("b", 1, "x0:A:0", "x1:A:1", "x2:A:3"));
        assertThat(r.triplets()).isEmpty();
        assertThat(r.stats().validAnchors()).isZero();
        assertThat(r.stats().hard() + r.stats().semiHard() + r.stats().easy()).isZero();
        assertThat(r.stats().lossBatchHard()).isZero();
        assertThat(r.stats().lossWeighted()).isZero();
        assertThat(r.stats().lossSemiHard()).isCloseTo(2.5, within(1e-9));
        assertThat(r.stats().meanDAp()).isZero();
        assertThat(r.stats().memoryIdentities()).isEqualTo(1);
    }

    /**
     * a (A) at 0; positives p2 at 2 and p1 at −2, both at distance 2; negatives n2 at 1 and n1 at −1,
     * both at 1. Inserted in the order a, p2, p1, n2, n1: the earlier one wins each tie, whatever
     * the ids' alphabetical order.
     */
    @Test
    void batchHardBreaksTiesByInsertionOrder() {
        MiningResult r = mineInOrder(EUCLIDEAN_MARGIN_1,
                batch("b", 1, "a:A:0", "p2:A:2", "p1:A:-2", "n2:B:1", "n1:B:-1"));
        assertThat(tripletsOf(r, "a")).containsExactly("a,p2,n2");
    }

    /** Same points: every gap of a is −1, so the order is positive, then negative, by insertion. */
    @Test
    void equalGapsAreOrderedByPositiveThenNegativeInsertion() {
        MiningResult r = mineInOrder(EUCLIDEAN_MARGIN_1.withStrategy(Strategy.HARD),
                batch("b", 1, "a:A:0", "p2:A:2", "p1:A:-2", "n2:B:1", "n1:B:-1"));
        assertThat(tripletsOf(r, "a")).containsExactly("a,p2,n2", "a,p2,n1", "a,p1,n2", "a,p1,n1");
    }

    /**
     * Exact duplicates at non-integer values: n1 and n2 both at (0.5, −1.25), a at (0.75, 0.25),
     * p at (−1.5, 2). The duplicate inserted first is the nearest negative.
     */
    @Test
    void duplicateEmbeddingsTieAndTheEarlierOneWins() {
        for (Distance distance : Distance.values()) {
            MiningResult r = mineInOrder(EUCLIDEAN_MARGIN_1.withDistance(distance),
                    batch("b", 1, "n2:B:0.5,-1.25", "a:A:0.75,0.25", "n1:B:0.5,-1.25", "p:A:-1.5,2"));
            assertThat(tripletsOf(r, "a")).as(distance.id()).containsExactly("a,p,n2");
        }
    }

    /** A tie across batches: n1 from the earlier batch beats n2 at the same distance. */
    @Test
    void tieGoesToTheSampleFromTheEarlierBatch() {
        MiningResult r = mineInOrder(EUCLIDEAN_MARGIN_1.withStrategy(Strategy.N_PAIR).withNegativesPerAnchor(1),
                batch("b1", 1, "n1:B:-1"),
                batch("b2", 2, "n2:C:1", "a:A:0", "p:A:2"));
        assertThat(tripletsOf(r, "a")).containsExactly("a,p,n1");
    }

    /**
     * n2 at 1 entered before n1 at −1, then n2 is re-published unchanged: it now counts as newer,
     * so n1 wins the tie at distance 1 from a.
     */
    @Test
    void republishedSampleCountsAsNewForTies() {
        MiningResult r = mineInOrder(EUCLIDEAN_MARGIN_1,
                batch("b1", 1, "n2:B:1", "n1:B:-1"),
                batch("b2", 2, "n2:B:1", "a:A:0", "p:A:2"));
        assertThat(tripletsOf(r, "a")).containsExactly("a,p,n1");
    }

    /**
     * s (B) first at 1, then re-published at 4 with step 2: the memory holds one s, last in
     * insertion order, with the new embedding and step; a2 at 0 sees it at distance 4, not 1.
     * A replacement is not an eviction.
     */
    @Test
    void republishedSampleReplacesItsEarlierEntry() {
        try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
            miner.mine(batch("b1", 1, "a:A:0", "p:A:5", "s:B:1"), EUCLIDEAN_MARGIN_1);
            MiningResult r = miner.mine(batch("b2", 2, "s:B:4", "a2:A:0"), EUCLIDEAN_MARGIN_1);

            assertThat(r.evicted()).isEmpty();
            assertThat(r.stats().memorySize()).isEqualTo(4);
            assertThat(MiningAssertions.entryIds(miner.memory().entries())).containsExactly("a", "p", "s", "a2");
            MemoryBank.Entry s = miner.memory().entries().get(2);
            assertThat(s.embedding()).containsExactly(4f);
            assertThat(s.step()).isEqualTo(2);
            MinedTriplet t = r.triplets().stream().filter(x -> x.anchorId().equals("a2")).findFirst().orElseThrow();
            assertThat(t.negativeId()).isEqualTo("s");
            assertThat(t.dAn()).isEqualTo(4f);
            assertThat(t.negativeStep()).isEqualTo(2);
        }
    }

    /** a at 0, p (A) at 2, n (B) at 2: gap 0 is hard, not semi-hard. */
    @Test
    void gapOfExactlyZeroIsHard() {
        SampleBatch b = batch("b", 1, "a:A:0", "p:A:2", "n:B:2");
        assertThat(tripletsOf(mineInOrder(EUCLIDEAN_MARGIN_1.withStrategy(Strategy.HARD), b), "a")).containsExactly("a,p,n");
        assertThat(tripletsOf(mineInOrder(EUCLIDEAN_MARGIN_1.withStrategy(Strategy.SEMI_HARD), b), "a")).isEmpty();
    }

    /** a at 0, p (A) at 2, n (B) at 3, margin 1: gap 1 = margin is semi-hard, not easy. */
    @Test
    void gapEqualToTheMarginIsSemiHard() {
        SampleBatch b = batch("b", 1, "a:A:0", "p:A:2", "n:B:3");
        assertThat(tripletsOf(mineInOrder(EUCLIDEAN_MARGIN_1.withStrategy(Strategy.SEMI_HARD), b), "a"))
                .containsExactly("a,p,n");
        assertThat(tripletsOf(mineInOrder(EUCLIDEAN_MARGIN_1.withStrategy(Strategy.EASY), b), "a")).isEmpty();
    }

    /**
     * Squared euclidean in 6 dimensions, a at the origin, margin 4:
     * p = (2⁻¹², …, 2⁻¹²) at d_ap = 6·2⁻²⁴ = 3·2⁻²³; n = (2, 2⁻¹¹, 2⁻¹¹, 0, 0, 0) at d_an = 4 + 2⁻²¹.
     * The exact gap 4 + 2⁻²³ exceeds the margin (easy), but in float32 it rounds to 4 (the spacing
     * of floats at 4 is 2⁻²¹), which is semi-hard — as PyTorch's float tensors classify it.
     */
    @Test
    void gapIsComputedInFloat32AsPytorchDoes() {
        float e12 = 0x1p-12f;
        float e11 = 0x1p-11f;
        SampleBatch b = batch("b", 1, new String[] {"a", "p", "n"}, new String[] {"A", "A", "B"},
                new float[][] {{0, 0, 0, 0, 0, 0}, {e12, e12, e12, e12, e12, e12}, {2, e11, e11, 0, 0, 0}});
        MiningSettings settings = MiningSettings.defaults().withDistance(Distance.SQUARED_EUCLIDEAN).withMargin(4f);

        MiningResult semiHard = mineInOrder(settings.withStrategy(Strategy.SEMI_HARD), b);
        MinedTriplet t = semiHard.triplets().stream().filter(x -> x.anchorId().equals("a")).findFirst().orElseThrow();
        assertThat(t.dAp()).isEqualTo(0x3p-23f);
        assertThat(t.dAn()).isEqualTo(4f + 0x1p-21f);
        assertThat((double) t.dAn() - t.dAp()).isGreaterThan(4.0);
        assertThat(tripletsOf(mineInOrder(settings.withStrategy(Strategy.EASY), b), "a")).isEmpty();
    }

    /**
     * Cosine, margin 0.5: a = (1, 0, 0, 0), p = (1, 1, 1, 1) at 1 − ½ = 0.5, n = (−10⁻⁸, 1, 0, 0)
     * at 1 + 10⁻⁸, which rounds to the float 1.0: gap 0.5 = margin, semi-hard. Near distance 1
     * the cosine score is near 0, where over a billion floats round to the same distance;
     * the score threshold must still be the exact one.
     */
    @Test
    void cosineNegativeOnTheMarginIsSemiHardWhateverItsScore() {
        MiningSettings settings = MiningSettings.defaults().withDistance(Distance.COSINE).withMargin(0.5f);
        SampleBatch b = batch("b", 1, "a:A:1,0,0,0", "p:A:1,1,1,1", "n:B:-1e-8,1,0,0");
        MiningResult semiHard = mineInOrder(settings.withStrategy(Strategy.SEMI_HARD), b);
        assertThat(tripletsOf(semiHard, "a")).containsExactly("a,p,n");
        assertThat(semiHard.triplets().get(0).dAn()).isEqualTo(1f);
        assertThat(tripletsOf(mineInOrder(settings.withStrategy(Strategy.EASY), b), "a")).isEmpty();
    }

    /**
     * Cosine, a = p = (1, 0); n1 = (10⁻⁸, 1) inserted before n2 = (2·10⁻⁸, 1). 1 − cos is
     * 1 − 10⁻⁸ and 1 − 2·10⁻⁸, which both round to the float 1.0: equal distances, so n1 wins
     * although n2 is nearer before rounding.
     */
    @Test
    void batchHardTieIsJudgedOnTheFloatDistance() {
        MiningResult r = mineInOrder(MiningSettings.defaults().withDistance(Distance.COSINE),
                batch("b", 1, "a:A:1,0", "p:A:1,0", "n1:B:1e-8,1", "n2:B:2e-8,1"));
        MinedTriplet t = r.triplets().get(0);
        assertThat(t.dAn()).isEqualTo(1f);
        assertThat(tripletsOf(r, "a")).containsExactly("a,p,n1");
    }

    /** The same rounding, n-pair: n1 (B) and n2 (C) both at float distance 1; n1 entered first. */
    @Test
    void nPairTieIsJudgedOnTheFloatDistance() {
        MiningSettings settings = MiningSettings.defaults().withDistance(Distance.COSINE)
                .withStrategy(Strategy.N_PAIR).withNegativesPerAnchor(2);
        MiningResult r = mineInOrder(settings, batch("b", 1, "a:A:1,0", "p:A:1,0", "n1:B:1e-8,1", "n2:C:2e-8,1"));
        assertThat(tripletsOf(r, "a")).containsExactly("a,p,n1", "a,p,n2");
    }

    /** Within one identity too: n1 and n2 (both B) at float distance 1; n1 entered first. */
    @Test
    void nPairNearestSampleOfAnIdentityIsJudgedOnTheFloatDistance() {
        MiningSettings settings = MiningSettings.defaults().withDistance(Distance.COSINE)
                .withStrategy(Strategy.N_PAIR).withNegativesPerAnchor(1);
        MiningResult r = mineInOrder(settings, batch("b", 1, "a:A:1,0", "p:A:1,0", "n1:B:1e-8,1", "n2:B:2e-8,1"));
        assertThat(tripletsOf(r, "a")).containsExactly("a,p,n1");
    }

    /**
     * Cosine without normalize, t (B) at (1e-40, 0): 1/|t| is no float32, so t counts as the zero
     * vector, at distance 1 from everything (its true direction would put it at 0 from a). a (A) at
     * (1, 0): hardest positive p (A) at (1, 1), 1 − cos 45° = 0.29289323; nearest negative t at 1,
     * not n (B) at (−1, 0), at 2. t as anchor: its positive n at 1, its negatives a and p both at 1,
     * a inserted first.
     */
    @Test
    void cosineCountsATinyEmbeddingAsTheZeroVector() {
        MiningSettings settings = MiningSettings.defaults().withDistance(Distance.COSINE).withNormalize(false)
                .withMargin(0.2f);
        MiningResult r = mineInOrder(settings, batch("b", 1, "a:A:1,0", "p:A:1,1", "n:B:-1,0", "t:B:1e-40,0"));
        assertThat(tripletsOf(r, "a")).containsExactly("a,p,t");
        assertThat(tripletsOf(r, "t")).containsExactly("t,n,a");
        MinedTriplet fromA = r.triplets().stream().filter(t -> t.anchorId().equals("a")).findFirst().orElseThrow();
        assertThat(fromA.dAp()).isEqualTo(0.29289323f);
        assertThat(fromA.dAn()).isEqualTo(1f);
        MinedTriplet fromT = r.triplets().stream().filter(t -> t.anchorId().equals("t")).findFirst().orElseThrow();
        assertThat(fromT.dAp()).isEqualTo(1f);
        assertThat(fromT.dAn()).isEqualTo(1f);
        assertThat(r.stats().lossBatchHard()).isFinite();
        assertThat(r.stats().lossWeighted()).isFinite();
    }

    /**
     * Every strategy, cosine without normalize, a tenth of the samples tiny (components of about
     * 1e-40): every distance to or from a tiny one is exactly 1 and every statistic is a number.
     * Their scores used to be infinite or NaN: losses NaN, and batch-hard failed on an anchor with no
     * nearest negative.
     */
    @ParameterizedTest
    @EnumSource(Strategy.class)
    void tinyEmbeddingsUnderCosineAreAtDistanceOneAndLeaveTheStatisticsFinite(Strategy strategy) {
        Random random = new Random(3);
        int dim = 8;
        MiningSettings settings = MiningSettings.defaults().withStrategy(strategy).withDistance(Distance.COSINE)
                .withNormalize(false).withMargin(0.3f).withMaxPerAnchor(4).withNegativesPerAnchor(3).withSeed(7);
        long tinyTriplets = 0;
        try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
            for (int b = 0; b < 4; b++) {
                int n = 300;
                String[] ids = new String[n];
                String[] labels = new String[n];
                float[] embeddings = new float[n * dim];
                for (int i = 0; i < n; i++) {
                    boolean tiny = random.nextInt(10) == 0;
                    ids[i] = (tiny ? "t" : "s") + b + "-" + i;
                    labels[i] = "L" + random.nextInt(30);
                    for (int k = 0; k < dim; k++) {
                        embeddings[i * dim + k] = (float) (random.nextGaussian() * (tiny ? 1e-40 : 1));
                    }
                }
                MiningResult r = miner.mine(new SampleBatch("b" + b, "w", b, dim, ids, labels, embeddings), settings);
                BatchStatistics stats = r.stats();
                assertThat(List.of(stats.lossBatchHard(), stats.lossSemiHard(), stats.lossWeighted(),
                        stats.meanDAp(), stats.meanDAn())).as("batch %d: %s", b, stats).allMatch(Double::isFinite);
                for (MinedTriplet t : r.triplets()) {
                    boolean tinyAnchor = t.anchorId().startsWith("t");
                    if (tinyAnchor || t.positiveId().startsWith("t")) {
                        assertThat(t.dAp()).as("%s", t).isEqualTo(1f);
                        tinyTriplets++;
                    }
                    if (tinyAnchor || t.negativeId().startsWith("t")) {
                        assertThat(t.dAn()).as("%s", t).isEqualTo(1f);
                        tinyTriplets++;
                    }
                    assertThat(t.dAp()).isBetween(0f, 2f);
                    assertThat(t.dAn()).isBetween(0f, 2f);
                }
            }
        }
        assertThat(tinyTriplets).isPositive();
    }

    /** Whatever the strategy, no triplet pairs an anchor with itself or with another identity's sample as positive. */
    @ParameterizedTest
    @EnumSource(Strategy.class)
    void anchorsAreNeverTheirOwnPositive(Strategy strategy) {
        MiningSettings settings = MiningSettings.defaults().withStrategy(strategy).withMargin(2f);
        long triplets = 0;
        for (long seed = 0; seed < 8; seed++) {
            try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
                for (SampleBatch b : RandomJobs.batches(seed, Values.SMALL_INTEGERS)) {
                    for (MinedTriplet t : miner.mine(b, settings).triplets()) {
                        assertThat(t.positiveId()).isNotEqualTo(t.anchorId());
                        assertThat(t.negativeLabel()).isNotEqualTo(t.anchorLabel());
                        assertThat(miner.memory().entries().stream()
                                .filter(e -> e.sampleId().equals(t.positiveId())).findFirst().orElseThrow().label())
                                .isEqualTo(t.anchorLabel());
                        triplets++;
                    }
                }
            }
        }
        assertThat(triplets).isPositive();
    }
}
