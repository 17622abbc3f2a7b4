package dev.hardmine.mining;

import static dev.hardmine.mining.MiningAssertions.assertIdentical;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Batches passed tile by tile keep in the score matrix only the products their scans read, when the
 * strategy reads no more than its candidates (JobMiner.Keeping): the same results to the last bit as
 * with every product kept, with every product the miner did not keep NaN — a scan that read one
 * would mine NaN distances or other triplets. Against a memory of wide and narrow tiles whose last
 * chunk is partial, batches of several parts of rows, with data that put few or many negatives within
 * the margin, ties between chunks, and anchors with no positive.
 */
class KeptProductsTest {
    private static final int DIM = 8;
    private static final int SIZE = 3 * ScoreMatrix.BLOCK_SLOTS + 300;
    private static final Set<Strategy> READ_CANDIDATES_ONLY =
            EnumSet.of(Strategy.BATCH_HARD, Strategy.HARD, Strategy.SEMI_HARD, Strategy.ALL);

    /** What the embeddings look like. */
    enum Data {
        /** Gaussian: many negatives within the margin; beyond the exponential's range unless normalised. */
        GAUSSIAN,
        /** Identities clustered tightly around their centres, all within the exponential's range: few negatives within the margin. */
        CLUSTERED,
        /** Components 0 or ½: exact distances, ties within and between chunks everywhere. */
        BINARY,
        /**
         * Every sample of an identity a copy of its centre: the nearest negatives are the copies of another
         * identity, ties spread over several chunks, and beyond the margin.
         */
        COPIES
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void keepingOnlyWhatTheScansReadGivesTheSameResultsAsKeepingEveryProduct(Strategy strategy) {
        MemoryLimits limits = new MemoryLimits(0, SIZE, 0);
        Object[][] cases = {
            {Distance.EUCLIDEAN, true, Data.GAUSSIAN, MemorySampling.NONE, true},
            {Distance.EUCLIDEAN, false, Data.CLUSTERED, MemorySampling.NONE, true},
            {Distance.EUCLIDEAN, false, Data.BINARY, MemorySampling.NONE, true},
            {Distance.EUCLIDEAN, false, Data.COPIES, MemorySampling.NONE, true},
            {Distance.SQUARED_EUCLIDEAN, false, Data.CLUSTERED, MemorySampling.NONE, true},
            {Distance.COSINE, false, Data.GAUSSIAN, new MemorySampling(0, 2, MemorySampling.DEFAULT_MAX_BYTES), true},
            // Memory samples of negatives may need the whole row, as may distances beyond the exponential's range.
            {Distance.COSINE, false, Data.CLUSTERED, new MemorySampling(2, 1, MemorySampling.DEFAULT_MAX_BYTES), false},
            {Distance.EUCLIDEAN, false, Data.GAUSSIAN, MemorySampling.NONE, false},
        };
        long triplets = 0;
        for (Object[] c : cases) {
            Distance distance = (Distance) c[0];
            Data data = (Data) c[2];
            MiningSettings settings = MiningSettings.defaults().withStrategy(strategy).withDistance(distance)
                    .withNormalize((Boolean) c[1])
                    .withMargin(data == Data.COPIES ? 0.01f : distance == Distance.SQUARED_EUCLIDEAN ? 1f : 0.2f)
                    .withMaxPerAnchor(5).withNegativesPerAnchor(3).withSeed(5)
                    .withMemorySampling((MemorySampling) c[3]);
            boolean expectFew = (Boolean) c[4] && READ_CANDIDATES_ONLY.contains(strategy);
            String context = strategy + ", " + distance + ", normalise " + c[1] + ", " + data + ", " + c[3];
            try (JobMiner few = new JobMiner(limits, true, 0, JobMiner.Keeping.WHAT_SCANS_READ_REST_NAN);
                 JobMiner every = new JobMiner(limits, true, 0, JobMiner.Keeping.EVERYTHING)) {
                Samples samples = new Samples(data, new Random(17));
                boolean normalise = (Boolean) c[1];
                few.attach(samples.memory(limits, normalise));
                every.attach(new Samples(data, new Random(17)).memory(limits, normalise));
                int[] sizes = {40, 2 * ScoreMatrix.PART_ROWS + 11};
                for (int b = 0; b < sizes.length; b++) {
                    SampleBatch batch = samples.batch("b" + b, sizes[b], b == 1);
                    MiningResult kept = few.mine(batch, settings);
                    assertThat(few.keptOnlyWhatScansRead()).as(context).isEqualTo(expectFew);
                    assertIdentical(kept, every.mine(batch, settings), context + ", " + batch.batchId());
                    assertThat(kept.stats().validAnchors()).as(context).isPositive()
                            .isLessThanOrEqualTo(b == 1 ? batch.size() - 1 : batch.size());
                    triplets += kept.triplets().size();
                }
            }
        }
        assertThat(triplets).isPositive();
    }

    /** Samples of 400 identities of one kind of data. */
    private static final class Samples {
        private final Data data;
        private final Random random;
        private final float[][] centres = new float[400][DIM];

        Samples(Data data, Random random) {
            this.data = data;
            this.random = random;
            for (float[] centre : centres) {
                for (int k = 0; k < DIM; k++) {
                    centre[k] = (float) (0.15 * random.nextGaussian());
                }
            }
        }

        MemoryBank memory(MemoryLimits limits, boolean normalise) {
            MemoryBank bank = new MemoryBank(DIM, limits);
            SampleBatch fill = batch("fill", SIZE, false);
            bank.enqueue(fill, normalise ? Embeddings.l2Normalized(fill.embeddings(), DIM) : fill.embeddings());
            return bank;
        }

        /** {@code n} samples; with {@code strangers}, one in eight of an identity the memory has never seen. */
        SampleBatch batch(String batchId, int n, boolean strangers) {
            String[] ids = new String[n];
            String[] labels = new String[n];
            float[] embeddings = new float[n * DIM];
            for (int i = 0; i < n; i++) {
                ids[i] = batchId + "-" + i;
                int label = random.nextInt(centres.length);
                labels[i] = strangers && i % 8 == 0 ? batchId + "-stranger-" + i : "L" + label;
                for (int k = 0; k < DIM; k++) {
                    embeddings[i * DIM + k] = switch (data) {
                        case GAUSSIAN -> (float) random.nextGaussian();
                        case CLUSTERED -> centres[label][k] + (float) (0.02 * random.nextGaussian());
                        case BINARY -> random.nextInt(2) * 0.5f;
                        case COPIES -> centres[label][k];
                    };
                }
            }
            return new SampleBatch(batchId, "w", 1, DIM, ids, labels, embeddings);
        }
    }
}
