package dev.hardmine.mining;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.mining.internals.FastExp;
import dev.hardmine.mining.internals.IntList;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The two {@link RowPass} implementations keep one numeric contract: on the same rows they give
 * the same bits — chunk minima and maxima, and the weight sums whose order the contract fixes — so
 * a result never depends on whether a JVM has the Vector API. Rows of every distance, of lengths
 * around the chunk and the vector widths, with the anchor's identity in some chunks and not in
 * others, with norms inside and far outside FastExp.expMinus's range; the minima and maxima also
 * against a plain loop over {@link RowPass#distance}, which AnchorScan uses to find the slots
 * behind them, and the sums against double-precision ones.
 */
class RowPassTest {
    private static final int DIM = 8;

    /** The test JVM runs with the module (surefire's argLine), as every hardmine command does: the fast pass is the one tested everywhere else. */
    @Test
    void theTestJvmRunsTheVectorPass() {
        assertThat(ModuleLayer.boot().findModule(JobMiner.VECTOR_MODULE)).isPresent();
        assertThat(VectorRowPass.supported()).as("this CPU has 256- or 512-bit vectors").isTrue();
        assertThat(RowPass.vectorised()).isTrue();
        assertThat(RowPass.create()).isInstanceOf(VectorRowPass.class);
    }

    @Test
    void bothPassesGiveTheSameBitsOnEveryRow() {
        Random random = new Random(21);
        int[] sizes = {1, 7, 16, 17, RowPass.CHUNK - 1, RowPass.CHUNK, 3 * RowPass.CHUNK + 41};
        double[] norms = {1.0, 0.3, 4.0};
        RowPass vector = new VectorRowPass();
        RowPass scalar = new ScalarRowPass();
        int rows = 0;
        for (Distance distance : Distance.values()) {
            for (int size : sizes) {
                for (double norm : norms) {
                    try (MemoryBank memory = filled(size, norm, random); ScoreMatrix scores = new ScoreMatrix()) {
                        float[] anchors = new float[5 * DIM];
                        for (int i = 0; i < 5; i++) {
                            int slot = random.nextInt(size);
                            System.arraycopy(memory.embedding(slot), 0, anchors, i * DIM, DIM);
                        }
                        ScoreMatrix.Scores matrix = scores.compute(memory, anchors, 5, distance, false);
                        for (int i = 0; i < 5; i++) {
                            int[] excluded = sameLabel(memory, "L" + random.nextInt(Math.max(1, size / 9)));
                            for (boolean maxima : new boolean[] {false, true}) {
                                String row = distance + ", size " + size + ", norm " + norm + ", anchor " + i
                                        + ", maxima " + maxima;
                                Passed byVector = Passed.inOrder(vector, matrix, i, size, distance, memory, excluded, maxima);
                                Passed byScalar = Passed.inOrder(scalar, matrix, i, size, distance, memory, excluded, maxima);
                                assertSameBits(byVector, byScalar, maxima, row);
                                assertExact(byVector, matrix, memory, i, distance, excluded, maxima, row);
                                rows++;
                            }
                        }
                    }
                }
            }
        }
        assertThat(rows).isEqualTo(Distance.values().length * sizes.length * norms.length * 5 * 2);
    }

    /**
     * The Vector API's exponential gives FastExp.expMinus's bits, value by value: every 1 021st float
     * from −8 to 8, both ends, and the infinities.
     */
    @Test
    void theVectorExponentialGivesTheBitsOfFastExp() {
        int lanes = VectorRowPass.species().length();
        int top = Float.floatToRawIntBits(8f);
        int count = 2 * (top / 1021 + 1) + 4;
        float[] t = new float[(count + lanes - 1) / lanes * lanes];
        Arrays.fill(t, Float.POSITIVE_INFINITY);
        int n = 0;
        for (int magnitude = 0; magnitude <= top; magnitude += 1021) {
            t[n++] = Float.intBitsToFloat(magnitude);
            t[n++] = -Float.intBitsToFloat(magnitude);
        }
        t[n++] = 8f;
        t[n++] = -8f;
        t[n++] = Float.NEGATIVE_INFINITY;
        t[n++] = Float.POSITIVE_INFINITY; // and the lanes' padding after it
        assertThat(n).as("values filled in").isEqualTo(count).isGreaterThan(2_000_000);
        float[] e = new float[t.length];
        for (int i = 0; i < t.length; i += lanes) {
            VectorRowPass.expMinus(jdk.incubator.vector.FloatVector.fromArray(VectorRowPass.species(), t, i))
                    .intoArray(e, i);
        }
        for (int i = 0; i < t.length; i++) {
            // The bits compared first, AssertJ (Float#equals: the same bits) only to report a difference.
            if (Float.floatToIntBits(e[i]) != Float.floatToIntBits(FastExp.expMinus(t[i]))) {
                assertThat(e[i]).as("e^-(%s)", t[i]).isEqualTo(FastExp.expMinus(t[i]));
            }
        }
    }

    /**
     * Scores at the edges of what the miner can give them — ±0, negatives, subnormals, ±Float.MAX_VALUE,
     * sums and cosine quotients that overflow to ±∞ — the same bits from both passes, chunk by chunk:
     * every distance, with and without the maxima and the anchor's identity. The products, offsets
     * and inverse norms themselves are always finite (SampleBatch#checkScoresFinite,
     * Embeddings#inverseNorm), so no score is NaN.
     */
    @Test
    void bothPassesGiveTheSameBitsOnProductsOfEveryKind() {
        Random random = new Random(8);
        RowPass vector = new VectorRowPass();
        RowPass scalar = new ScalarRowPass();
        int chunks = 0;
        int infinite = 0;
        for (Distance distance : Distance.values()) {
            for (int n : new int[] {16, 37, RowPass.CHUNK}) {
                for (int round = 0; round < 40; round++) {
                    EdgeChunk edge = EdgeChunk.random(random, n, round);
                    for (boolean maxima : new boolean[] {false, true}) {
                        String what = distance + ", " + n + " slots, round " + round + ", maxima " + maxima;
                        edge.pass(vector, distance, maxima);
                        edge.pass(scalar, distance, maxima);
                        assertThat(Float.floatToIntBits(vector.chunkMin)).as("%s: minimum %s vs %s", what,
                                vector.chunkMin, scalar.chunkMin).isEqualTo(Float.floatToIntBits(scalar.chunkMin));
                        if (maxima) {
                            assertThat(Float.floatToIntBits(vector.chunkMax)).as("%s: maximum %s vs %s", what,
                                    vector.chunkMax, scalar.chunkMax).isEqualTo(Float.floatToIntBits(scalar.chunkMax));
                        }
                        assertThat(vector.laneWeight).as("%s: lane weights", what).isEqualTo(scalar.laneWeight);
                        assertThat(vector.laneExcess).as("%s: lane weights × d", what).isEqualTo(scalar.laneExcess);
                        chunks++;
                        infinite += maxima && vector.chunkMax == Float.POSITIVE_INFINITY ? 1 : 0;
                    }
                }
            }
        }
        assertThat(chunks).isEqualTo(Distance.values().length * 3 * 40 * 2);
        assertThat(infinite).as("chunks with an infinite distance").isBetween(chunks / 10, chunks * 9 / 10);
    }

    /** One chunk of scores at the edges (bothPassesGiveTheSameBitsOnProductsOfEveryKind), the anchor's identity at every third slot or nowhere. */
    private record EdgeChunk(ByteBuffer products, int n, float offset, float[] inverseNorms, boolean masked) {
        private static final float[] EDGES = {0f, -0f, -1f, -1e-30f, Float.MAX_VALUE, -Float.MAX_VALUE, 1e-40f,
                -1e-40f, 3.5f, 0.25f, 4f, 1e30f};

        static EdgeChunk random(Random random, int n, int round) {
            ByteBuffer products = ByteBuffer.allocate(n * Float.BYTES).order(ByteOrder.nativeOrder());
            float[] inverseNorms = new float[n];
            for (int k = 0; k < n; k++) {
                products.putFloat(k * Float.BYTES, random.nextInt(4) == 0 ? EDGES[random.nextInt(EDGES.length)]
                        : (float) (random.nextGaussian() * 2));
                inverseNorms[k] = random.nextInt(8) == 0 ? Math.abs(EDGES[random.nextInt(EDGES.length)])
                        : (float) random.nextDouble();
            }
            float offset = round % 3 == 0 ? Float.MAX_VALUE : (float) random.nextDouble() * 3;
            return new EdgeChunk(products, n, offset, inverseNorms, round % 2 == 1);
        }

        void pass(RowPass pass, Distance distance, boolean maxima) {
            Arrays.fill(pass.keep, 1f);
            Arrays.fill(pass.masked, 0f);
            for (int k = 0; masked && k < n; k += 3) {
                pass.keep[k] = 0f;
                pass.masked[k] = Float.POSITIVE_INFINITY;
            }
            pass.chunk(products, 0, 0, n, offset, distance, inverseNorms, masked, maxima);
            Arrays.fill(pass.keep, 1f);
            Arrays.fill(pass.masked, 0f);
        }
    }

    /**
     * The Vector API's pass on 512-bit vectors (one per 16 slots) and on 256-bit ones (two) gives
     * the same bits: a JVM limited to AVX2 ({@code -XX:UseAVX=2}) digests the same rows as this one.
     * Runs where this JVM has 512-bit vectors.
     */
    @Test
    void bothVectorWidthsGiveTheSameBits() throws Exception {
        Assumptions.assumeTrue(VectorRowPass.bits() == 512, "this CPU has no 512-bit vectors to compare with");
        Process child = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                JobMiner.VECTOR_MODULE_OPTION, "-XX:UseAVX=2", "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), RowPassTest.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as(out).isZero();
        List<String> lines = out.lines().filter(line -> line.startsWith("row pass ")).toList();
        assertThat(lines).as(out).containsExactly("row pass 256-bit " + digest(new VectorRowPass()));
    }

    /** For bothVectorWidthsGiveTheSameBits: the width of this JVM's vectors and the digest of its pass. */
    public static void main(String[] args) {
        System.out.println("row pass " + VectorRowPass.bits() + "-bit " + digest(new VectorRowPass()));
    }

    /**
     * A hash of every output bit of {@code pass} over seeded rows of every distance, with the
     * anchor's identity in some chunks, norms inside and beyond expMinus's range, and with and
     * without the maxima (the euclidean rows without them take the pass's loop of its own), and over
     * chunks of scores at the edges (EdgeChunk).
     */
    private static long digest(RowPass pass) {
        Random random = new Random(31);
        long hash = 17;
        for (Distance distance : Distance.values()) {
            for (int size : new int[] {23, RowPass.CHUNK + 5, 3 * RowPass.CHUNK}) {
                for (double norm : new double[] {1.0, 4.0}) {
                    try (MemoryBank memory = filled(size, norm, random); ScoreMatrix scores = new ScoreMatrix()) {
                        float[] anchors = new float[3 * DIM];
                        for (int i = 0; i < 3; i++) {
                            System.arraycopy(memory.embedding(random.nextInt(size)), 0, anchors, i * DIM, DIM);
                        }
                        ScoreMatrix.Scores matrix = scores.compute(memory, anchors, 3, distance, false);
                        for (int i = 0; i < 3; i++) {
                            int[] excluded = sameLabel(memory, "L" + random.nextInt(Math.max(1, size / 9)));
                            for (boolean maxima : new boolean[] {false, true}) {
                                Passed passed = Passed.inOrder(pass, matrix, i, size, distance, memory, excluded, maxima);
                                for (int c = 0; c * RowPass.CHUNK < size; c++) {
                                    hash = 31 * hash + Float.floatToRawIntBits(passed.chunkMin[c]);
                                    hash = 31 * hash + (maxima ? Float.floatToRawIntBits(passed.chunkMax[c]) : 0);
                                }
                                hash = 31 * hash + Double.doubleToRawLongBits(passed.weights);
                                hash = 31 * hash + Double.doubleToRawLongBits(passed.weighted);
                            }
                        }
                    }
                }
            }
            for (int round = 0; round < 12; round++) {
                EdgeChunk edge = EdgeChunk.random(random, round % 2 == 0 ? 37 : RowPass.CHUNK, round);
                for (boolean maxima : new boolean[] {false, true}) {
                    edge.pass(pass, distance, maxima);
                    hash = 31 * hash + Float.floatToIntBits(pass.chunkMin);
                    hash = 31 * hash + (maxima ? Float.floatToIntBits(pass.chunkMax) : 0);
                    for (int l = 0; l < RowPass.SUM_LANES; l++) {
                        hash = 31 * hash + Float.floatToIntBits(pass.laneWeight[l]);
                        hash = 31 * hash + Float.floatToIntBits(pass.laneExcess[l]);
                    }
                }
            }
        }
        return hash;
    }

    /**
     * JobMiner passes each tile's chunks of a row as soon as the tile's product is done, so a row's
     * chunks are passed in any order and by several passes (one per thread): the summaries fold the
     * lane sums in chunk order, so the row's sums are the same bits as one pass from its first chunk to
     * its last gives.
     */
    @Test
    void chunksPassedInAnyOrderBySeveralPassesGiveTheBitsOfOnePassInOrder() {
        Random random = new Random(5);
        int size = 7 * RowPass.CHUNK + 300;
        int chunks = 8;
        try (MemoryBank memory = filled(size, 1.0, random); ScoreMatrix scores = new ScoreMatrix()) {
            float[] anchors = new float[3 * DIM];
            for (int i = 0; i < 3; i++) {
                System.arraycopy(memory.embedding(random.nextInt(size)), 0, anchors, i * DIM, DIM);
            }
            ScoreMatrix.Scores matrix = scores.compute(memory, anchors, 3, Distance.EUCLIDEAN, false);
            int[][] excluded = new int[3][];
            RowSummaries scattered = new RowSummaries();
            scattered.reset(3, size);
            for (int i = 0; i < 3; i++) {
                excluded[i] = sameLabel(memory, "L" + random.nextInt(size / 9));
                scattered.exclude(i, excluded[i], excluded[i].length);
            }
            RowPass[] passes = {new VectorRowPass(), new VectorRowPass(), new ScalarRowPass()};
            // The rows' chunks one at a time, last chunk first, the passes taking turns.
            int turn = 0;
            for (int c = chunks - 1; c >= 0; c--) {
                for (int i = 0; i < 3; i++) {
                    passes[turn++ % passes.length].run(matrix, matrix, i, c, c + 1, size, Distance.EUCLIDEAN,
                            memory.inverseNorms(), true, scattered);
                }
            }
            for (int i = 0; i < 3; i++) {
                Passed inOrder = Passed.inOrder(new VectorRowPass(), matrix, i, size, Distance.EUCLIDEAN, memory,
                        excluded[i], true);
                Passed anyOrder = Passed.of(scattered, i);
                assertThat(inOrder.weights).as("a sum of %d chunks' lane sums", chunks).isPositive();
                assertSameBits(anyOrder, inOrder, true, "row " + i);
            }
        }
    }

    /** What a pass left of a row: its chunks' minima and maxima, and its weight sums folded in chunk order. */
    private record Passed(float[] chunkMin, float[] chunkMax, double weights, double weighted) {
        /** Row {@code anchor} passed whole by {@code pass}, from its first chunk to its last, as one tile would. */
        static Passed inOrder(RowPass pass, ScoreMatrix.Scores matrix, int anchor, int size, Distance distance,
                              MemoryBank memory, int[] excluded, boolean maxima) {
            RowSummaries summaries = new RowSummaries();
            summaries.reset(anchor + 1, size);
            for (int r = 0; r < anchor; r++) {
                summaries.exclude(r, null, 0);
            }
            summaries.exclude(anchor, excluded, excluded.length);
            pass.run(matrix, matrix, anchor, 0, summaries.chunks(), size, distance, memory.inverseNorms(), maxima, summaries);
            return of(summaries, anchor);
        }

        static Passed of(RowSummaries summaries, int row) {
            float[] min = new float[summaries.chunks()];
            float[] max = new float[summaries.chunks()];
            for (int c = 0; c < min.length; c++) {
                min[c] = summaries.chunkMin(row, c);
                max[c] = summaries.chunkMax(row, c);
            }
            double[] sums = new double[2];
            summaries.fold(row, new double[2 * RowPass.SUM_LANES], sums);
            return new Passed(min, max, sums[0], sums[1]);
        }
    }

    private static void assertSameBits(Passed vector, Passed scalar, boolean maxima, String row) {
        assertThat(vector.chunkMin).as("%s: chunk minima", row).isEqualTo(scalar.chunkMin);
        if (maxima) {
            assertThat(vector.chunkMax).as("%s: chunk maxima", row).isEqualTo(scalar.chunkMax);
        }
        assertThat(Double.doubleToRawLongBits(vector.weights)).as("%s: Σ w %s vs %s", row, vector.weights,
                scalar.weights).isEqualTo(Double.doubleToRawLongBits(scalar.weights));
        assertThat(Double.doubleToRawLongBits(vector.weighted)).as("%s: Σ w·d %s vs %s", row, vector.weighted,
                scalar.weighted).isEqualTo(Double.doubleToRawLongBits(scalar.weighted));
    }

    /** Extrema exactly those of RowPass.distance over the slots; the sums those of e^(−d) within the float lanes' rounding. */
    private static void assertExact(Passed pass, ScoreMatrix.Scores matrix, MemoryBank memory, int anchor,
                                    Distance distance, int[] excluded, boolean maxima, String row) {
        int size = memory.size();
        float offset = matrix.offset(anchor);
        boolean inRange = true;
        double weights = 0;
        double weighted = 0;
        for (int c = 0; c * RowPass.CHUNK < size; c++) {
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (int slot = c * RowPass.CHUNK; slot < Math.min(size, (c + 1) * RowPass.CHUNK); slot++) {
                float d = RowPass.distance(matrix.product(anchor, slot), distance, offset, memory.inverseNorms(), slot);
                max = Math.max(max, d);
                inRange &= d < FastExp.EXP_MINUS_RANGE;
                if (Arrays.binarySearch(excluded, slot) < 0) {
                    min = Math.min(min, d);
                    weights += Math.exp(-d);
                    weighted += Math.exp(-d) * d;
                }
            }
            assertThat(pass.chunkMin[c]).as("%s: minimum of chunk %d", row, c).isEqualTo(min);
            if (maxima) {
                assertThat(pass.chunkMax[c]).as("%s: maximum of chunk %d", row, c).isEqualTo(max);
            }
        }
        if (inRange && weights > 0) {
            assertThat(pass.weights).as("%s: Σ w", row).isCloseTo(weights, org.assertj.core.data.Offset.offset(1e-5 * weights));
            assertThat(pass.weighted).as("%s: Σ w·d", row)
                    .isCloseTo(weighted, org.assertj.core.data.Offset.offset(1e-5 * Math.max(weighted, 1e-30)));
        }
    }

    /** A memory of {@code size} entries of about the given norm, labels L0 … so that each has about nine entries. */
    private static MemoryBank filled(int size, double norm, Random random) {
        MemoryBank memory = new MemoryBank(DIM, new MemoryLimits(0, 0, 0));
        String[] ids = new String[size];
        String[] labels = new String[size];
        float[] embeddings = new float[size * DIM];
        for (int i = 0; i < size; i++) {
            ids[i] = "e" + i;
            labels[i] = "L" + random.nextInt(Math.max(1, size / 9));
            double scale = norm * (0.5 + random.nextDouble()) / Math.sqrt(DIM);
            for (int k = 0; k < DIM; k++) {
                embeddings[i * DIM + k] = (float) (random.nextGaussian() * scale);
            }
        }
        SampleBatch fill = new SampleBatch("fill", "w", 0, DIM, ids, labels, embeddings);
        memory.enqueue(fill, fill.embeddings());
        return memory;
    }

    private static int[] sameLabel(MemoryBank memory, String label) {
        int id = memory.labelIdOf(label);
        if (id < 0) {
            return new int[0];
        }
        IntList slots = memory.slotsOfLabel(id);
        int[] sorted = new int[slots.size()];
        for (int i = 0; i < sorted.length; i++) {
            sorted[i] = slots.get(i);
        }
        Arrays.sort(sorted);
        return sorted;
    }
}
