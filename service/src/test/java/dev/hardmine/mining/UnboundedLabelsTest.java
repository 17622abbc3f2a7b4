package dev.hardmine.mining;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A job that keeps meeting new identities (an open-world stream of labels, a million of them over
 * a long run) holds what its memory holds, not every label it has seen: the label tables are
 * bounded by the live labels, as the entries are by the memory's limits.
 */
class UnboundedLabelsTest {

    @Test
    void everyLabelEverSeenDoesNotStayInTheMemorysTables() {
        int batches = Integer.getInteger("labels.batches", 5_000);
        int perBatch = 16;
        try (JobMiner miner = new JobMiner(new MemoryLimits(2, 256, 0))) {
            MemoryBank memory = null;
            for (int b = 0; b < batches; b++) {
                List<String> samples = new ArrayList<>();
                for (int i = 0; i < perBatch; i++) {
                    // Two samples of each of 8 labels never seen before.
                    samples.add("s" + b + "-" + i + ":L" + b + "-" + (i / 2) + ":" + (i % 7));
                }
                miner.mine(Batches.batch("b" + b, b, samples.toArray(String[]::new)), MiningSettings.defaults());
                memory = miner.memory();
                assertThat(memory.size()).isLessThanOrEqualTo(256);
                assertThat(memory.labelCount()).as("label ids after batch %d", b).isLessThanOrEqualTo(256 + perBatch);
            }
            assertThat(memory.identities()).isEqualTo(256 / 2);
            // The labels in memory are the newest ones, each still found by its name.
            String newest = "L" + (batches - 1) + "-0";
            assertThat(memory.labelName(memory.labelIdOf(newest))).isEqualTo(newest);
            assertThat(memory.labelIdOf("L0-0")).isEqualTo(-1);
        }
    }
}
