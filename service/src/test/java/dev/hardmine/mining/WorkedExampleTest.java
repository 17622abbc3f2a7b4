package dev.hardmine.mining;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One batch in one dimension, worked out by hand. Euclidean distance, margin 1.
 * <pre>
 *   x1 (A) at 0, x2 (A) at 2, y1 (B) at 1, y2 (B) at 5
 *   anchor  positive d_ap   negatives d_an        gaps      classes
 *   x1      x2  2          y1 1, y2 5            -1, 3     hard, easy
 *   x2      x1  2          y1 1, y2 3            -1, 1     hard, semi-hard (gap = margin)
 *   y1      y2  4          x1 1, x2 1            -3, -3    hard, hard (tie: x1 entered first)
 *   y2      y1  4          x1 5, x2 3             1, -1    semi-hard, hard
 * </pre>
 */
class WorkedExampleTest {
    private static final float MARGIN = 1f;

    private static SampleBatch batch() {
        return new SampleBatch("b0", "w0", 7, 1,
                new String[] {"x1", "x2", "y1", "y2"},
                new String[] {"A", "A", "B", "B"},
                new float[] {0f, 2f, 1f, 5f});
    }

    private static MiningResult mine(Strategy strategy) {
        try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
            return miner.mine(batch(), MiningSettings.defaults().withStrategy(strategy).withMargin(MARGIN));
        }
    }

    private static List<String> ids(MiningResult r) {
        return r.triplets().stream().map(t -> t.anchorId() + "," + t.positiveId() + "," + t.negativeId()).toList();
    }

    @Test
    void batchHardPairsFarthestPositiveWithNearestNegativeAndBreaksTiesByInsertion() {
        MiningResult r = mine(Strategy.BATCH_HARD);
        assertThat(ids(r)).containsExactly("x1,x2,y1", "x2,x1,y1", "y1,y2,x1", "y2,y1,x2");
        assertThat(r.triplets().get(0).dAp()).isEqualTo(2f);
        assertThat(r.triplets().get(0).dAn()).isEqualTo(1f);
        assertThat(r.triplets().get(0).positiveStep()).isEqualTo(7);
    }

    @Test
    void hardnessCountsCoverEveryTripletOfValidAnchors() {
        BatchStatistics s = mine(Strategy.BATCH_HARD).stats();
        assertThat(s.anchors()).isEqualTo(4);
        assertThat(s.validAnchors()).isEqualTo(4);
        assertThat(s.hard()).isEqualTo(5);
        assertThat(s.semiHard()).isEqualTo(2);
        assertThat(s.easy()).isEqualTo(1);
        assertThat(s.memorySize()).isEqualTo(4);
        assertThat(s.memoryIdentities()).isEqualTo(2);
    }

    @Test
    void batchHardLossIsTheMeanHingeOfHardestPairs() {
        // (2-1+1) + (2-1+1) + (4-1+1) + (4-3+1) = 10, over 4 anchors
        assertThat(mine(Strategy.BATCH_HARD).stats().lossBatchHard()).isCloseTo(2.5, within(1e-9));
    }

    @Test
    void semiHardLossUsesSmallestFartherNegativeElseFarthestNegative() {
        // x1: next negative beyond 2 is 5 -> 0; x2: 3 -> 0; y1: none beyond 4, farthest 1 -> 4; y2: 5 -> 0
        assertThat(mine(Strategy.BATCH_HARD).stats().lossSemiHard()).isCloseTo(1.0, within(1e-9));
    }

    @Test
    void weightedLossSoftmaxWeighsPositivesWithTheAnchorAndNegatives() {
        double x1 = hinge(softAp(2), softAn(1, 5));
        double x2 = hinge(softAp(2), softAn(1, 3));
        double y1 = hinge(softAp(4), softAn(1, 1));
        double y2 = hinge(softAp(4), softAn(5, 3));
        assertThat(mine(Strategy.BATCH_HARD).stats().lossWeighted())
                .isCloseTo((x1 + x2 + y1 + y2) / 4, within(1e-6));
    }

    @Test
    void semiHardStrategyIncludesGapEqualToMargin() {
        assertThat(ids(mine(Strategy.SEMI_HARD))).containsExactly("x2,x1,y2", "y2,y1,x1");
    }

    @Test
    void hardStrategyIncludesEveryNonPositiveGapHardestFirst() {
        assertThat(ids(mine(Strategy.HARD)))
                .containsExactly("x1,x2,y1", "x2,x1,y1", "y1,y2,x1", "y1,y2,x2", "y2,y1,x2");
    }

    @Test
    void easyStrategyKeepsOnlyGapsBeyondMargin() {
        assertThat(ids(mine(Strategy.EASY))).containsExactly("x1,x2,y2");
    }

    @Test
    void meanDistancesAreOverEmittedTriplets() {
        BatchStatistics s = mine(Strategy.SEMI_HARD).stats();
        assertThat(s.meanDAp()).isCloseTo((2 + 4) / 2.0, within(1e-9));
        assertThat(s.meanDAn()).isCloseTo((3 + 5) / 2.0, within(1e-9));
    }

    /** fast-reid: softmax(d) over {anchor at 0, positive at d}. */
    private static double softAp(double dAp) {
        return dAp * Math.exp(dAp) / (1 + Math.exp(dAp));
    }

    /** fast-reid: softmax(-d) over the two negatives. */
    private static double softAn(double d1, double d2) {
        return (d1 * Math.exp(-d1) + d2 * Math.exp(-d2)) / (Math.exp(-d1) + Math.exp(-d2));
    }

    private static double hinge(double ap, double an) {
        return Math.max(0, ap - an + MARGIN);
    }
}
