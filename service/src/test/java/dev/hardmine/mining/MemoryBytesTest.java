package dev.hardmine.mining;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code memory.max-bytes}: every live entry is charged {@link MemoryBank#entryBytes}, the memory
 * knows the sum exactly through inserts, replacements and every kind of eviction, and keeps it at
 * or under the budget whatever the ids and labels weigh.
 */
class MemoryBytesTest {
    private static final int DIM = 8;

    @Test
    void theChargeIsTheSumOfTheLiveEntriesThroughReplacementsAndEveryEviction() {
        Random random = new Random(7);
        // Per identity, by age and in total, plus a byte budget that bites now and then.
        MemoryLimits limits = new MemoryLimits(3, 60, 40, 60 * MemoryBank.fixedEntryBytes(DIM) + 2_000);
        try (JobMiner miner = new JobMiner(limits)) {
            for (int b = 0; b < 300; b++) {
                int n = 2 + random.nextInt(12);
                String[] ids = new String[n];
                String[] labels = new String[n];
                float[][] rows = new float[n][DIM];
                for (int i = 0; i < n; i++) {
                    // Ids repeat (replacements), and their lengths vary from 1 to 200 characters.
                    ids[i] = "s" + random.nextInt(150) + "x".repeat(random.nextInt(200)) + "#" + i;
                    labels[i] = "L" + random.nextInt(25);
                    for (int k = 0; k < DIM; k++) {
                        rows[i][k] = (float) random.nextGaussian();
                    }
                }
                miner.mine(Batches.batch("b" + b, b, ids, labels, rows), MiningSettings.defaults());
                MemoryBank memory = miner.memory();
                long expected = memory.entries().stream()
                        .mapToLong(e -> MemoryBank.entryBytes(DIM, e.sampleId(), e.label())).sum();
                assertThat(memory.bytes()).as("charge after batch %d", b).isEqualTo(expected);
                assertThat(memory.bytes()).as("within the budget after batch %d", b).isLessThanOrEqualTo(limits.maxBytes());
            }
        }
    }

    @Test
    void longIdsAreEvictedByTheirBytesWhereCountingEntriesAloneWouldLetThemGrow() {
        long budget = 200 * MemoryBank.fixedEntryBytes(DIM); // 200 entries of short ids
        // The service's limits for this budget: a count cap of 200 and the budget itself.
        MemoryLimits limits = new MemoryLimits(0, 200, 0, budget);
        String longTail = "i".repeat(1_024); // limits.max-id-length
        try (JobMiner miner = new JobMiner(limits)) {
            for (int b = 0; b < 50; b++) {
                String[] samples = new String[16];
                for (int i = 0; i < samples.length; i++) {
                    // Ids and labels of one length each, so that every entry is charged the same.
                    samples[i] = String.format("s%02d-%02d%s:L%04d:%d,1,2,3,4,5,6,7", b, i, longTail, b * 16 + i, i);
                }
                miner.mine(Batches.batch("b" + b, b, samples), MiningSettings.defaults());
                assertThat(miner.memory().bytes()).as("after batch %d", b).isLessThanOrEqualTo(budget);
            }
            MemoryBank memory = miner.memory();
            long perEntry = MemoryBank.entryBytes(DIM, "s49-15" + longTail, "L0799");
            assertThat(memory.size()).as("entries of 1 KB ids held within the budget")
                    .isEqualTo((int) (budget / perEntry)).isLessThan(200);
            // The newest are kept: eviction goes oldest first.
            assertThat(memory.slotOf("s49-15" + longTail)).isNotNegative();
            assertThat(memory.slotOf("s00-00" + longTail)).isNegative();
        }
    }
}
