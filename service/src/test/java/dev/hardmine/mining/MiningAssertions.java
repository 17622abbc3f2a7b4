package dev.hardmine.mining;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;

/** Comparisons of mining results: counts exactly, losses and means to 1e-5 relative. */
final class MiningAssertions {
    static final double RELATIVE = 1e-5;

    private MiningAssertions() {
    }

    /** Same triplets in the same order, same evicted ids, same statistics (mining time aside). */
    static void assertSameResult(MiningResult actual, MiningResult expected, String context) {
        assertThat(actual.triplets()).as(context + ": triplets").containsExactlyElementsOf(expected.triplets());
        assertThat(actual.evicted()).as(context + ": evicted").containsExactlyInAnyOrderElementsOf(expected.evicted());
        assertSameStatistics(actual.stats(), expected.stats(), true, context);
        assertThat(samples(actual.memorySamples())).as(context + ": memory samples")
                .containsExactlyElementsOf(samples(expected.memorySamples()));
    }

    /** Memory samples as "id label step [embedding]", for comparison whatever their seq. */
    static List<String> samples(List<MemoryBank.Entry> entries) {
        return entries.stream()
                .map(e -> e.sampleId() + " " + e.label() + " " + e.step() + " " + Arrays.toString(e.embedding()))
                .toList();
    }

    /**
     * @param withTripletMeans whether mean_d_ap and mean_d_an are compared (they depend on the
     *                         emitted triplets)
     */
    static void assertSameStatistics(BatchStatistics actual, BatchStatistics expected, boolean withTripletMeans,
                                     String context) {
        assertThat(actual.anchors()).as(context + ": anchors").isEqualTo(expected.anchors());
        assertThat(actual.validAnchors()).as(context + ": valid_anchors").isEqualTo(expected.validAnchors());
        assertThat(actual.hard()).as(context + ": hard").isEqualTo(expected.hard());
        assertThat(actual.semiHard()).as(context + ": semi_hard").isEqualTo(expected.semiHard());
        assertThat(actual.easy()).as(context + ": easy").isEqualTo(expected.easy());
        assertClose(actual.lossBatchHard(), expected.lossBatchHard(), context + ": loss_batch_hard");
        assertClose(actual.lossSemiHard(), expected.lossSemiHard(), context + ": loss_semi_hard");
        assertClose(actual.lossWeighted(), expected.lossWeighted(), context + ": loss_weighted");
        if (withTripletMeans) {
            assertClose(actual.meanDAp(), expected.meanDAp(), context + ": mean_d_ap");
            assertClose(actual.meanDAn(), expected.meanDAn(), context + ": mean_d_an");
        }
        assertThat(actual.memorySize()).as(context + ": memory_size").isEqualTo(expected.memorySize());
        assertThat(actual.memoryIdentities()).as(context + ": memory_identities")
                .isEqualTo(expected.memoryIdentities());
    }

    static void assertClose(double actual, double expected, String what) {
        assertThat(Math.abs(actual - expected))
                .as("%s: %s vs expected %s", what, actual, expected)
                .isLessThanOrEqualTo(RELATIVE * Math.max(Math.abs(expected), 1e-3));
    }

    /** Equal in everything but the wall-clock {@code miningMs}. */
    static void assertIdentical(MiningResult actual, MiningResult expected, String context) {
        assertThat(actual.triplets()).as(context + ": triplets").isEqualTo(expected.triplets());
        assertThat(actual.evicted()).as(context + ": evicted").isEqualTo(expected.evicted());
        assertThat(withoutTime(actual.stats())).as(context + ": stats").isEqualTo(withoutTime(expected.stats()));
        assertThat(samples(actual.memorySamples())).as(context + ": memory samples")
                .isEqualTo(samples(expected.memorySamples()));
    }

    static BatchStatistics withoutTime(BatchStatistics s) {
        return new BatchStatistics(s.anchors(), s.validAnchors(), s.hard(), s.semiHard(), s.easy(),
                s.lossBatchHard(), s.lossSemiHard(), s.lossWeighted(), s.meanDAp(), s.meanDAn(),
                s.memorySize(), s.memoryIdentities(), 0.0);
    }

    /** Triplets as "anchor,positive,negative". */
    static List<String> ids(List<MinedTriplet> triplets) {
        return triplets.stream().map(t -> t.anchorId() + "," + t.positiveId() + "," + t.negativeId()).toList();
    }

    /** Sample ids of memory entries, in the order given (insertion order for {@code entries()}). */
    static List<String> entryIds(List<MemoryBank.Entry> entries) {
        return entries.stream().map(MemoryBank.Entry::sampleId).toList();
    }
}
