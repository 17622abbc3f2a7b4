package dev.hardmine.mining;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The tiled products of {@link ScoreMatrix}: a batch of three parts of rows against a memory of
 * three blocks of slots (the last ones of each partial) gives, read back row by row as the scan
 * reads it, every pair's squared distance. Integer components keep every score
 * exact, whatever order a product sums in.
 */
class ScoreMatrixTest {
    private static final int DIM = 8;

    @Test
    void everyAnchorReadsItsScoreAgainstEverySlot() {
        Random random = new Random(11);
        int size = 2 * ScoreMatrix.BLOCK_SLOTS + 300;
        int batch = 2 * ScoreMatrix.PART_ROWS + 5;
        try (MemoryBank memory = new MemoryBank(DIM, new MemoryLimits(0, 0, 0)); ScoreMatrix scores = new ScoreMatrix()) {
            SampleBatch fill = batch("fill", size, random);
            memory.enqueue(fill, fill.embeddings());
            float[] anchors = batch("anchors", batch, random).embeddings();
            for (boolean parallel : new boolean[] {true, false}) {
                ScoreMatrix.Scores matrix = scores.compute(memory, anchors, batch, Distance.EUCLIDEAN, parallel);
                float[] row = new float[size];
                for (int i = 0; i < batch; i++) {
                    matrix.readRow(i, row);
                    for (int slot = 0; slot < size; slot++) {
                        float expected = squaredDistance(anchors, i, memory.embedding(slot));
                        assertThat(row[slot]).as("anchor %d, slot %d, parallel %s", i, slot, parallel)
                                .isEqualTo(expected);
                    }
                }
            }
        }
    }

    private static SampleBatch batch(String id, int n, Random random) {
        String[] ids = new String[n];
        String[] labels = new String[n];
        float[] embeddings = new float[n * DIM];
        for (int i = 0; i < n; i++) {
            ids[i] = id + "-" + i;
            labels[i] = "L" + random.nextInt(50);
        }
        for (int k = 0; k < embeddings.length; k++) {
            embeddings[k] = random.nextInt(7) - 3;
        }
        return new SampleBatch(id, "w", 0, DIM, ids, labels, embeddings);
    }

    private static float squaredDistance(float[] anchors, int i, float[] entry) {
        float sum = 0;
        for (int k = 0; k < DIM; k++) {
            float d = anchors[i * DIM + k] - entry[k];
            sum += d * d;
        }
        return sum;
    }
}
