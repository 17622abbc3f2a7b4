package dev.hardmine.mining;

import static dev.hardmine.mining.MiningAssertions.assertSameResult;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.mining.ReferenceAgreementTest.ExactSetup;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The miner against {@link MiningReference}, as in {@link ReferenceAgreementTest}, on memories of a
 * few thousand entries: several chunks of {@link AnchorScan#LANES} slots (the last one partial),
 * lanes covering several slots each, entries moved between slots by eviction, scores in several
 * blocks of slots ({@link ScoreMatrix#TAIL_SLOTS} wide at these sizes, the last one partial); with
 * seed 1 the last batch is also split into three parts of rows ({@link ScoreMatrix#PART_ROWS}).
 * The data decide which of AnchorScan's paths run: see {@link Data}.
 */
class LargeMemoryAgreementTest {
    private static final int FILL = 5 * AnchorScan.LANES / 2 + 37;

    /** Integer-valued data (exact distances), each kind aimed at some paths of AnchorScan. */
    enum Data {
        /**
         * RandomJobs' values of the setup: small-integer euclidean and squared distances reach far
         * beyond FastExp.expMinus's range (the whole row goes through the scalar exp), normalised
         * ones stay within it; candidates are everywhere; ties between lanes are frequent.
         */
        RANDOM,
        /** Identities clustered around integer centres: candidates are rare, found by lane. */
        CLUSTERED,
        /**
         * Components 0 or 1 (euclidean distances within range), and one sample in 64 with a
         * component of 30: the few out-of-range weights are found by lane.
         */
        OUTLIERS,
        /**
         * RANDOM's values among 6 identities without a per-identity bound: every anchor's identity
         * holds a sixth of the memory, masked in nearly every chunk as the scan converts the row, so
         * most lanes' minima and weights skip entries of the anchor's own identity.
         */
        CROWDED
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        Object[][] strategies = {
            {Strategy.BATCH_HARD, 0}, {Strategy.HARD, 7}, {Strategy.SEMI_HARD, 3}, {Strategy.EASY, 5},
            {Strategy.ALL, 4}, {Strategy.N_PAIR, 0},
        };
        for (Object[] s : strategies) {
            for (long seed = 0; seed < 2; seed++) {
                for (ExactSetup setup : ExactSetup.values()) {
                    cases.add(Arguments.of(s[0], s[1], setup, Data.RANDOM, seed));
                }
                cases.add(Arguments.of(s[0], s[1], ExactSetup.EUCLIDEAN, Data.CLUSTERED, seed));
                cases.add(Arguments.of(s[0], s[1], ExactSetup.SQUARED_EUCLIDEAN, Data.CLUSTERED, seed));
                cases.add(Arguments.of(s[0], s[1], ExactSetup.EUCLIDEAN, Data.OUTLIERS, seed));
                if (seed == 0 && (s[0] == Strategy.BATCH_HARD || s[0] == Strategy.SEMI_HARD)) {
                    // The reference enumerates every (positive, negative) pair: hundreds of positives per anchor are slow.
                    cases.add(Arguments.of(s[0], s[1], ExactSetup.EUCLIDEAN, Data.CROWDED, seed));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} max-per-anchor {1}, {2}, {3}, seed {4}")
    @MethodSource("cases")
    void minerAgreesWithBruteForceReferenceOnLargeMemories(Strategy strategy, int maxPerAnchor, ExactSetup setup,
                                                           Data data, long seed) {
        Random random = new Random(seed * 131 + strategy.ordinal());
        MiningSettings settings = ReferenceAgreementTest.settings(random, setup).withStrategy(strategy)
                .withMaxPerAnchor(maxPerAnchor);
        int dim = 3 + random.nextInt(6);
        int drawn = 150 + random.nextInt(100); // drawn for every kind, so the other kinds keep their data
        int labels = data == Data.CROWDED ? 6 : drawn;
        Samples samples = new Samples(random, data, setup, dim, labels);
        // The total cap evicts the oldest entries from the second batch on; the last entries move into their slots.
        MemoryLimits limits = new MemoryLimits(data == Data.CROWDED ? 0 : 24, FILL, 0);
        MiningReference reference = new MiningReference(limits);
        SampleBatch fill = samples.batch("fill", 0, FILL);
        MemoryBank bank = new MemoryBank(dim, limits);
        List<String> evicted = bank.enqueue(fill, setup.normalize
                ? Embeddings.l2Normalized(fill.embeddings(), dim) : fill.embeddings());
        assertThat(evicted).isEqualTo(reference.enqueueOnly(fill, setup.normalize));
        assertThat(bank.size()).isGreaterThan(2 * AnchorScan.LANES);
        try (JobMiner miner = new JobMiner(limits)) {
            miner.attach(bank);
            for (int b = 1; b <= 3; b++) {
                int n = b == 3 && seed == 1 ? 2 * ScoreMatrix.PART_ROWS + 11 : 48;
                SampleBatch batch = samples.batch("b" + b + "-", b, n);
                String context = batch.batchId() + " " + data + " " + settings;
                assertSameResult(miner.mine(batch, settings), reference.mine(batch, settings), context);
            }
        }
    }

    /** Batches of fresh samples of one kind of data. */
    private static final class Samples {
        private final Random random;
        private final Data data;
        private final ExactSetup setup;
        private final int dim;
        private final int labels;
        private final int[][] centres;

        Samples(Random random, Data data, ExactSetup setup, int dim, int labels) {
            this.random = random;
            this.data = data;
            this.setup = setup;
            this.dim = dim;
            this.labels = labels;
            centres = new int[labels][dim];
            for (int[] c : centres) {
                for (int k = 0; k < dim; k++) {
                    c[k] = random.nextInt(9) - 4;
                }
            }
        }

        SampleBatch batch(String prefix, long step, int n) {
            if (data == Data.RANDOM || data == Data.CROWDED) {
                return RandomJobs.batch(random, setup.values, prefix, step, n, dim, labels);
            }
            String[] ids = new String[n];
            String[] labelArray = new String[n];
            float[] embeddings = new float[n * dim];
            for (int i = 0; i < n; i++) {
                int label = random.nextInt(labels);
                ids[i] = prefix + i;
                labelArray[i] = "L" + label;
                boolean outlier = random.nextInt(64) == 0;
                for (int k = 0; k < dim; k++) {
                    embeddings[i * dim + k] = data == Data.CLUSTERED
                            ? centres[label][k] + random.nextInt(3) - 1
                            : (outlier && k == 0 ? 30 : random.nextInt(2));
                }
            }
            return new SampleBatch(prefix, "w0", step, dim, ids, labelArray, embeddings);
        }
    }
}
