package dev.hardmine.mining;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardmine.mining.internals.FastExp;
import dev.hardmine.mining.internals.SharedLoop;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The tiled products of {@link ScoreMatrix}: a batch of three parts of rows (the last partial)
 * against a memory of one wide block of slots and nine narrow ones (the last partial) gives, read
 * back row by row as the scan reads it and with the row's offset added, every pair's squared
 * distance. Integer components keep every score exact, whatever order a product sums in.
 */
class ScoreMatrixTest {
    private static final int DIM = 8;

    @Test
    void everyAnchorReadsItsScoreAgainstEverySlot() {
        Random random = new Random(11);
        int size = 3 * ScoreMatrix.BLOCK_SLOTS + 300;
        int batch = 2 * ScoreMatrix.PART_ROWS + 5;
        try (MemoryBank memory = filled(size, random); ScoreMatrix scores = new ScoreMatrix()) {
            float[] anchors = batch("anchors", batch, random).embeddings();
            for (boolean parallel : new boolean[] {true, false}) {
                ScoreMatrix.Scores matrix = scores.compute(memory, anchors, batch, Distance.EUCLIDEAN, parallel);
                for (int i = 0; i < batch; i++) {
                    assertThat(wrongScores(matrix, i, anchors, memory)).as("anchor %d, parallel %s", i, parallel)
                            .isZero();
                }
            }
        }
    }

    /**
     * JobMiner runs the tiles and then the scans in one loop on two threads, each scan once
     * {@code awaitRow} returns: every row read then must be whole, never partly the previous batch's
     * (the scratch is reused), also for groups of rows that straddle two parts (517 anchors: parts of
     * 173 rows, half parts of 87) and with wide blocks as well as narrow ones; and what each tile's
     * thread did with the tile's rows after its product (JobMiner's row pass) must be done for every
     * chunk of the row.
     */
    @Test
    void aRowIsWholeOnceAwaitedWhileOtherTilesAreStillComputed() {
        Random random = new Random(12);
        int size = 5 * ScoreMatrix.BLOCK_SLOTS + 300;
        int batch = 2 * ScoreMatrix.PART_ROWS + 5;
        try (MemoryBank memory = filled(size, random); ScoreMatrix scores = new ScoreMatrix()) {
            for (int round = 0; round < 4; round++) {
                float[] anchors = batch("anchors-" + round, batch, random).embeddings();
                ScoreMatrix.Scores matrix = scores.prepare(memory, anchors, batch, Distance.EUCLIDEAN);
                int tiles = matrix.tiles();
                int chunks = (size + RowPass.CHUNK - 1) / RowPass.CHUNK;
                int[] handedOn = new int[batch * chunks];
                int[] wrong = new int[batch];
                int[] missing = new int[batch];
                SharedLoop.run(tiles + batch, task -> {
                    if (task < tiles) {
                        matrix.computeTile(task, (firstRow, rows, firstSlot, slots) ->
                                countChunks(handedOn, chunks, firstRow, rows, firstSlot, slots));
                        return;
                    }
                    int i = batch - 1 - (task - tiles); // the last rows first: those wait for the last tiles
                    matrix.awaitRow(i);
                    wrong[i] = wrongScores(matrix, i, anchors, memory);
                    for (int c = 0; c < chunks; c++) {
                        missing[i] += handedOn[i * chunks + c] == 1 ? 0 : 1;
                    }
                }, true);
                assertThat(wrong).as("round %d: wrong scores per anchor", round).containsOnly(0);
                assertThat(missing).as("round %d: chunks not handed on exactly once when the row was awaited", round)
                        .containsOnly(0);
            }
        }
    }

    /**
     * RowPass#tile passes whole chunks of {@link RowPass#CHUNK} slots: every tile starts at a chunk's
     * first slot and ends at a chunk's end or at the row's, and the tiles hand on every row's every
     * chunk exactly once, for memories around the chunk and block sizes.
     */
    @Test
    void tilesHandOnWholeChunksEachOnce() {
        Random random = new Random(13);
        int batch = 2 * ScoreMatrix.PART_ROWS + 5;
        int[] sizes = {1, RowPass.CHUNK - 1, RowPass.CHUNK, RowPass.CHUNK + 1, 2 * ScoreMatrix.BLOCK_SLOTS,
                2 * ScoreMatrix.BLOCK_SLOTS + 1, 5 * ScoreMatrix.BLOCK_SLOTS + 300};
        for (int size : sizes) {
            try (MemoryBank memory = filled(size, random); ScoreMatrix scores = new ScoreMatrix()) {
                ScoreMatrix.Scores matrix = scores.prepare(memory, batch("anchors", batch, random).embeddings(), batch,
                        Distance.EUCLIDEAN);
                int chunks = (size + RowPass.CHUNK - 1) / RowPass.CHUNK;
                int[] handedOn = new int[batch * chunks];
                for (int tile = 0; tile < matrix.tiles(); tile++) {
                    matrix.computeTile(tile, (firstRow, rows, firstSlot, slots) -> {
                        assertThat(firstSlot % RowPass.CHUNK).as("size %d: first slot %d", size, firstSlot).isZero();
                        int end = firstSlot + slots;
                        assertThat(end % RowPass.CHUNK == 0 || end == size).as("size %d: end %d", size, end).isTrue();
                        countChunks(handedOn, chunks, firstRow, rows, firstSlot, slots);
                    });
                }
                assertThat(handedOn).as("size %d: times each row's chunk was handed on", size).containsOnly(1);
            }
        }
    }

    /** Counts, per row and chunk ({@code counts[row · chunks + chunk]}), the chunks a tile handed on. */
    private static void countChunks(int[] counts, int chunks, int firstRow, int rows, int firstSlot, int slots) {
        for (int r = firstRow; r < firstRow + rows; r++) {
            for (int c = firstSlot / RowPass.CHUNK; c * RowPass.CHUNK < firstSlot + slots; c++) {
                counts[r * chunks + c]++;
            }
        }
    }

    /** A tile that fails makes the wait for the rows fail too, rather than spin for a tile that never comes. */
    @Test
    void aFailedTileFailsTheWaitForItsRows() {
        Random random = new Random(13);
        try (MemoryBank memory = new MemoryBank(DIM, new MemoryLimits(0, 0, 0)); ScoreMatrix scores = new ScoreMatrix()) {
            SampleBatch fill = batch("fill", 100, random);
            memory.enqueue(fill, fill.embeddings());
            ScoreMatrix.Scores matrix = scores.prepare(memory, batch("anchors", 4, random).embeddings(), 4,
                    Distance.EUCLIDEAN);
            assertThatThrownBy(() -> matrix.computeTile(matrix.tiles())).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> matrix.awaitRow(0)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("products failed");
        }
    }

    /**
     * {@code withinExpRange} lets the scans skip looking for each row's largest distance: it must
     * hold only where every distance is below FastExp.EXP_MINUS_RANGE, and it should hold for
     * unit-norm embeddings under the euclidean and cosine distances, the common case. Antipodal
     * pairs put the largest distance right at the norms' reach. Under the cosine, embeddings whose
     * inverse norm is too large for a float count as the zero vector: at distance 1.
     */
    @Test
    void theNormsBoundTheDistancesOnlyWhereEveryDistanceIsWithinTheExponentialsRange() {
        record Case(Distance distance, double anchorNorm, double memoryNorm, Boolean bounded) {
        }
        Case[] cases = {
            new Case(Distance.EUCLIDEAN, 1, 1, true),
            new Case(Distance.COSINE, 1, 1, true),
            new Case(Distance.COSINE, 40, 0.01, true),
            new Case(Distance.SQUARED_EUCLIDEAN, 0.9, 0.9, true),
            new Case(Distance.SQUARED_EUCLIDEAN, 1, 1, false),  // antipodal: 4
            new Case(Distance.EUCLIDEAN, 1.97, 1.97, null),     // just inside once rounding is allowed for
            new Case(Distance.EUCLIDEAN, 2.01, 2.01, false),
            new Case(Distance.EUCLIDEAN, 0.5, 3.6, false),      // the memory's norm counts
            new Case(Distance.EUCLIDEAN, 3.6, 0.5, false),      // and the anchors'
            new Case(Distance.COSINE, 1, 1e-40, true),          // 1/|y| is no float: y counts as 0
            new Case(Distance.COSINE, 1e-40, 1, true),          // nor 1/|x|: x does
        };
        Random random = new Random(5);
        for (Case c : cases) {
            float[] directions = new float[16 * DIM];
            for (int k = 0; k < directions.length; k++) {
                directions[k] = (float) random.nextGaussian();
            }
            float[] anchors = scaledRows(directions, c.anchorNorm());
            float[] entries = new float[2 * directions.length];
            System.arraycopy(scaledRows(directions, c.memoryNorm()), 0, entries, 0, directions.length);
            float[] opposite = scaledRows(directions, -c.memoryNorm());
            System.arraycopy(opposite, 0, entries, directions.length, directions.length);
            try (MemoryBank memory = new MemoryBank(DIM, new MemoryLimits(0, 0, 0));
                 ScoreMatrix scores = new ScoreMatrix()) {
                SampleBatch fill = rows("fill", entries);
                memory.enqueue(fill, fill.embeddings());
                int batch = anchors.length / DIM;
                ScoreMatrix.Scores matrix = scores.compute(memory, anchors, batch, c.distance(), false);
                if (c.bounded() != null) {
                    assertThat(matrix.withinExpRange()).as("%s", c).isEqualTo(c.bounded());
                }
                if (matrix.withinExpRange()) {
                    float[] row = new float[memory.size()];
                    for (int i = 0; i < batch; i++) {
                        matrix.read(i, 0, row, row.length);
                        for (int slot = 0; slot < row.length; slot++) {
                            float d = RowPass.distance(row[slot], c.distance(), matrix.offset(i),
                                    memory.inverseNorms(), slot);
                            if (c.distance() == Distance.COSINE && (c.anchorNorm() < 1e-38 || c.memoryNorm() < 1e-38)) {
                                assertThat(d).as("%s: anchor %d, slot %d", c, i, slot).isEqualTo(1f);
                            }
                            assertThat(d).as("%s: anchor %d, slot %d", c, i, slot)
                                    .isLessThan(FastExp.EXP_MINUS_RANGE);
                        }
                    }
                }
            }
        }
    }

    /**
     * The bound needs the memory's largest squared norm, kept as entries come and go: through
     * evictions (the last entry moving into the hole), re-insertions of an id, growth, an empty
     * batch, and many entries tied at the largest (identical ones) until the last of them leaves
     * (the first 15 batches have them, the rest do not), it is the largest over the entries present;
     * every entry's inverse norm moves with it, and is a float (0 for tiny ones).
     */
    @Test
    void theMemorysLargestNormsFollowItsEntries() {
        Random random = new Random(3);
        try (MemoryBank memory = new MemoryBank(DIM, new MemoryLimits(0, 20, 0))) {
            for (int b = 0; b < 40; b++) {
                int n = b == 25 ? 0 : 1 + random.nextInt(8);
                float[] directions = new float[n * DIM];
                for (int k = 0; k < directions.length; k++) {
                    directions[k] = (float) random.nextGaussian();
                }
                float[] embeddings = new float[directions.length];
                for (int i = 0; i < n; i++) {
                    int kind = b < 15 ? random.nextInt(4) : 2;
                    switch (kind) {
                        case 0 -> System.arraycopy(scaledRows(directions, 1e-40), i * DIM, embeddings, i * DIM, DIM);
                        case 1 -> Arrays.fill(embeddings, i * DIM, (i + 1) * DIM, 3f); // ties at the largest
                        default -> System.arraycopy(scaledRows(directions, Math.exp(4 * random.nextDouble() - 2)),
                                i * DIM, embeddings, i * DIM, DIM);
                    }
                }
                String[] ids = new String[n];
                String[] labels = new String[n];
                for (int i = 0; i < n; i++) {
                    ids[i] = "e" + random.nextInt(60); // some ids come again
                    labels[i] = "L" + random.nextInt(5);
                }
                SampleBatch batch = new SampleBatch("b" + b, "w", b, DIM, dedupe(ids), labels, embeddings);
                memory.enqueue(batch, batch.embeddings());
                float squared = 0f;
                for (int slot = 0; slot < memory.size(); slot++) {
                    squared = Math.max(squared, (float) Embeddings.squaredNorm(memory.embedding(slot), 0, DIM));
                    assertThat(memory.inverseNorms()[slot]).as("after batch %d, slot %d", b, slot)
                            .isEqualTo(Embeddings.inverseNorm(Embeddings.squaredNorm(memory.embedding(slot), 0, DIM)))
                            .isFinite();
                }
                assertThat(memory.largestSquaredNorm()).as("after batch %d", b).isEqualTo(squared);
            }
        }
    }

    private static String[] dedupe(String[] ids) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < ids.length; i++) {
            while (!seen.add(ids[i])) {
                ids[i] = ids[i] + "'";
            }
        }
        return ids;
    }

    /** Each row of {@code directions} scaled to L2 norm |norm|, negated when norm is negative. */
    private static float[] scaledRows(float[] directions, double norm) {
        float[] out = new float[directions.length];
        for (int off = 0; off < directions.length; off += DIM) {
            double scale = norm / Math.sqrt(Embeddings.squaredNorm(directions, off, DIM));
            for (int k = 0; k < DIM; k++) {
                out[off + k] = (float) (directions[off + k] * scale);
            }
        }
        return out;
    }

    private static SampleBatch rows(String id, float[] embeddings) {
        int n = embeddings.length / DIM;
        String[] ids = new String[n];
        String[] labels = new String[n];
        for (int i = 0; i < n; i++) {
            ids[i] = id + "-" + i;
            labels[i] = "L" + i;
        }
        return new SampleBatch(id, "w", 0, DIM, ids, labels, embeddings);
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

    /** A memory of {@code size} random integer entries, no limits. */
    private static MemoryBank filled(int size, Random random) {
        MemoryBank memory = new MemoryBank(DIM, new MemoryLimits(0, 0, 0));
        SampleBatch fill = batch("fill", size, random);
        memory.enqueue(fill, fill.embeddings());
        return memory;
    }

    /** How many of {@code anchor}'s scores, read as the scan reads them and offset, are not its squared distances. */
    private static int wrongScores(ScoreMatrix.Scores matrix, int anchor, float[] anchors, MemoryBank memory) {
        float[] row = new float[memory.size()];
        matrix.read(anchor, 0, row, row.length);
        int wrong = 0;
        for (int slot = 0; slot < row.length; slot++) {
            if (row[slot] + matrix.offset(anchor) != squaredDistance(anchors, anchor, memory.embedding(slot))) {
                wrong++;
            }
        }
        return wrong;
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
