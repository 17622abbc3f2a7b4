package dev.hardmine.mining;

import static dev.hardmine.mining.Batches.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/DESIGN.md "Bad input": what a batch is rejected for, with the reason code the DLQ headers carry. */
class BadInputTest {

    private static String reasonOf(Runnable construction) {
        InvalidBatchException e = catchThrowableOfType(InvalidBatchException.class, construction::run);
        assertThat(e).as("expected an InvalidBatchException").isNotNull();
        return e.reason();
    }

    private static SampleBatch twoSamples(String id1, String label1, String id2, String label2, float... values) {
        return new SampleBatch("b", "w", 1, 2, new String[] {id1, id2}, new String[] {label1, label2}, values);
    }

    @Test
    void rejectsEmptySampleId() {
        assertThat(reasonOf(() -> twoSamples("s1", "A", "", "B", 0, 0, 1, 1))).isEqualTo("empty-id");
    }

    @Test
    void rejectsMissingSampleId() {
        assertThat(reasonOf(() -> twoSamples("s1", "A", null, "B", 0, 0, 1, 1))).isEqualTo("empty-id");
    }

    @Test
    void rejectsEmptyLabel() {
        assertThat(reasonOf(() -> twoSamples("s1", "", "s2", "B", 0, 0, 1, 1))).isEqualTo("empty-id");
    }

    @Test
    void rejectsEmptyBatchId() {
        assertThat(reasonOf(() -> new SampleBatch("", "w", 1, 1, new String[] {"s"}, new String[] {"A"},
                new float[] {0}))).isEqualTo("empty-id");
    }

    @Test
    void rejectsDuplicateSampleIdsInABatch() {
        assertThat(reasonOf(() -> twoSamples("s1", "A", "s1", "B", 0, 0, 1, 1))).isEqualTo("duplicate-sample-id");
    }

    @Test
    void rejectsNaN() {
        assertThat(reasonOf(() -> twoSamples("s1", "A", "s2", "B", 0, 0, Float.NaN, 1)))
                .isEqualTo("non-finite-embedding");
    }

    @Test
    void rejectsInfinity() {
        assertThat(reasonOf(() -> twoSamples("s1", "A", "s2", "B", Float.NEGATIVE_INFINITY, 0, 1, 1)))
                .isEqualTo("non-finite-embedding");
    }

    /**
     * (1e20, 0) is finite, but its squared norm overflows float32 scores: without normalize the
     * miner rejects the batch as non-finite before it touches the memory; with normalize the same
     * batch enters with unit norms and is mined.
     */
    @Test
    void minerRejectsEmbeddingsTooLargeForFloatScoresUnlessItNormalizes() {
        SampleBatch first = batch("b1", 1, "a1:A:0,0", "b1:B:1,0");
        SampleBatch huge = batch("big", 2, "a2:A:1e20,0", "b2:B:0,1");
        try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
            MiningSettings raw = MiningSettings.defaults().withNormalize(false);
            miner.mine(first, raw);
            List<String> before = MiningAssertions.entryIds(miner.memory().entries());
            InvalidBatchException e = catchThrowableOfType(InvalidBatchException.class, () -> miner.mine(huge, raw));
            assertThat(e.reason()).isEqualTo("non-finite-embedding");
            assertThat(e.getMessage()).contains("a2");
            assertThat(MiningAssertions.entryIds(miner.memory().entries())).isEqualTo(before);

            MiningResult normalized = miner.mine(huge, raw.withNormalize(true));
            assertThat(normalized.stats().anchors()).isEqualTo(2);
            assertThat(miner.memory().entries()).hasSize(4);
        }
    }

    /** The largest squared norm still accepted gives finite scores against itself and its opposite. */
    @Test
    void theLargestAcceptedNormGivesFiniteScores() {
        float component = (float) Math.sqrt(SampleBatch.MAX_SQUARED_NORM) * 0.999f;
        SampleBatch far = batch("far", 1, "a1:A:" + component + ",0", "a2:A:" + (-component) + ",0",
                "b1:B:0," + component, "b2:B:0," + (-component));
        try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
            MiningResult r = miner.mine(far, MiningSettings.defaults().withNormalize(false));
            assertThat(r.triplets()).isNotEmpty().allSatisfy(t -> {
                assertThat(t.dAp()).isFinite();
                assertThat(t.dAn()).isFinite();
            });
        }
    }

    /** 2 samples of dim 2 need 4 values; 3 or 5 are rejected. */
    @Test
    void rejectsEmbeddingOfWrongLength() {
        assertThat(reasonOf(() -> twoSamples("s1", "A", "s2", "B", 0, 0, 1))).isEqualTo("embedding-length");
        assertThat(reasonOf(() -> twoSamples("s1", "A", "s2", "B", 0, 0, 1, 1, 2))).isEqualTo("embedding-length");
    }

    @Test
    void rejectsNonPositiveDim() {
        assertThat(reasonOf(() -> new SampleBatch("b", "w", 1, 0, new String[0], new String[0], new float[0])))
                .isEqualTo("bad-dim");
    }

    /**
     * A batch of dim 3 for a job of dim 2 is rejected before it touches the memory: the memory
     * keeps its entries, and the next valid batch is mined exactly as if the bad one never came.
     */
    @Test
    void minerRejectsBatchOfAnotherDimensionWithoutChangingTheMemory() {
        MiningSettings settings = MiningSettings.defaults();
        SampleBatch first = batch("b1", 1, "a1:A:0,0", "b1:B:1,0");
        SampleBatch wrongDim = batch("bad", 5, "a1:A:9,9,9", "c1:C:1,2,3");
        SampleBatch next = batch("b2", 2, "a2:A:0,1", "b2:B:2,2");
        try (JobMiner withBad = new JobMiner(new MemoryLimits(1, 0, 1));
             JobMiner without = new JobMiner(new MemoryLimits(1, 0, 1))) {
            withBad.mine(first, settings);
            without.mine(first, settings);
            List<String> before = MiningAssertions.entryIds(withBad.memory().entries());

            InvalidBatchException e = catchThrowableOfType(InvalidBatchException.class,
                    () -> withBad.mine(wrongDim, settings));
            assertThat(e.reason()).isEqualTo("dim-mismatch");
            assertThat(MiningAssertions.entryIds(withBad.memory().entries())).isEqualTo(before);
            assertThat(withBad.memory().entries().get(0).embedding()).containsExactly(0f, 0f);
            assertThat(withBad.memory().newestStep()).isEqualTo(1);

            MiningAssertions.assertIdentical(withBad.mine(next, settings), without.mine(next, settings), "next batch");
        }
    }
}
