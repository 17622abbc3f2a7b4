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
 * docs/DESIGN.md §6: the same input with the same settings gives the same output, except the
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

    /**
     * A batch scored in several products, on several threads or on one: the same products (the
     * tiling depends on the batch and memory sizes only, whichever thread takes a tile), so the same
     * scores to the last bit. In 64 dimensions BLAS kernels sum in blocks, where the shape of a
     * product changes the rounding. The memory (up to 3 000) spans two blocks of slots.
     */
    @Test
    void batchesScoredInSeveralProductsGiveTheSameResultsOnOneThread() {
        int dim = 64;
        java.util.Random random = new java.util.Random(5);
        MemoryLimits limits = new MemoryLimits(0, 3000, 0);
        MiningSettings settings = settings(Strategy.SEMI_HARD).withDistance(Distance.EUCLIDEAN);
        try (JobMiner parallel = new JobMiner(limits, true); JobMiner sequential = new JobMiner(limits, false)) {
            for (int b = 0; b < 4; b++) {
                int n = b == 0 ? 2500 : 2 * ScoreMatrix.PART_ROWS + 40;
                String[] ids = new String[n];
                String[] labels = new String[n];
                float[] embeddings = new float[n * dim];
                for (int i = 0; i < n; i++) {
                    ids[i] = "b" + b + "-" + i;
                    labels[i] = "L" + random.nextInt(300);
                }
                for (int k = 0; k < embeddings.length; k++) {
                    embeddings[k] = (float) random.nextGaussian();
                }
                SampleBatch batch = new SampleBatch("b" + b, "w", b, dim, ids, labels, embeddings);
                assertIdentical(parallel.mine(batch, settings), sequential.mine(batch, settings), "batch " + b);
            }
        }
    }

    /**
     * Large scores are passed tile by tile right after each product, small ones row by row once their
     * tiles are done (JobMiner.PASS_IN_TILES_ABOVE): both give the same results to the last bit, for
     * every strategy, under each distance, normalised or not (far-apart rows take the weighted mean's
     * second pass), against a memory of wide and narrow tiles whose last chunk is partial.
     */
    @ParameterizedTest
    @EnumSource(Strategy.class)
    void rowsPassedTileByTileOrRowByRowGiveTheSameResults(Strategy strategy) {
        int dim = 8;
        int size = 3 * ScoreMatrix.BLOCK_SLOTS + 300;
        MemoryLimits limits = new MemoryLimits(0, size, 0);
        Object[][] cases = {{Distance.EUCLIDEAN, true, 1.0}, {Distance.EUCLIDEAN, false, 3.0},
                {Distance.COSINE, false, 1.0}, {Distance.SQUARED_EUCLIDEAN, false, 1.0}};
        long triplets = 0;
        for (Object[] c : cases) {
            MiningSettings settings = settings(strategy).withDistance((Distance) c[0]).withNormalize((Boolean) c[1]);
            double scale = (Double) c[2];
            try (JobMiner tiles = new JobMiner(limits, true, 0); JobMiner rows = new JobMiner(limits, true, Long.MAX_VALUE)) {
                java.util.Random random = new java.util.Random(9);
                tiles.attach(filled(dim, size, scale, limits, new java.util.Random(3)));
                rows.attach(filled(dim, size, scale, limits, new java.util.Random(3)));
                for (int b = 0; b < 2; b++) {
                    SampleBatch batch = gaussian("b" + b, 40, dim, scale, 400, random);
                    MiningResult inTiles = tiles.mine(batch, settings);
                    assertIdentical(inTiles, rows.mine(batch, settings), c[0] + ", normalise " + c[1] + ", " + batch.batchId());
                    triplets += inTiles.triplets().size();
                }
            }
        }
        assertThat(triplets).isPositive();
    }

    /** A memory of {@code size} entries of Gaussian embeddings times {@code scale}, 400 labels. */
    private static MemoryBank filled(int dim, int size, double scale, MemoryLimits limits, java.util.Random random) {
        MemoryBank bank = new MemoryBank(dim, limits);
        SampleBatch fill = gaussian("fill", size, dim, scale, 400, random);
        bank.enqueue(fill, fill.embeddings());
        return bank;
    }

    private static SampleBatch gaussian(String batchId, int n, int dim, double scale, int labels, java.util.Random random) {
        String[] ids = new String[n];
        String[] names = new String[n];
        float[] embeddings = new float[n * dim];
        for (int i = 0; i < n; i++) {
            ids[i] = batchId + "-" + i;
            names[i] = "L" + random.nextInt(labels);
        }
        for (int k = 0; k < embeddings.length; k++) {
            embeddings[k] = (float) (random.nextGaussian() * scale);
        }
        return new SampleBatch(batchId, "w", 1, dim, ids, names, embeddings);
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
