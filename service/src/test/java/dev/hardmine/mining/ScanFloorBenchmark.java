package dev.hardmine.mining;

import dev.hardmine.mining.internals.FastExp;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor of the per-anchor scan on one thread: the three things no scan of a score row can
 * skip, each alone, per row of M scores — reading the row out of the score matrix (the rows
 * rotate over a batch's 256, so they come from memory as in the service), one square root per
 * entry (the euclidean distances the triplets and counts are exact in), and one exponential per
 * entry (fast-reid's softmax weights over every negative), in chunked, per-lane loops
 * that C2 vectorises (the plain-Java form; {@link VectorRowPass} reads the scores in place instead). B × (read + sqrt + exp) / 2 threads bounds the scans of one batch from
 * below; the mining step adds it to the products, which are the sgemm of {@code SgemmBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgs = {"-Xmx2g", JobMiner.VECTOR_MODULE_OPTION})
public class ScanFloorBenchmark {
    private static final int BATCH = 256;
    private static final int LANES = AnchorScan.LANES;

    @Param({"16384", "65536"})
    int memory;

    private FloatBuffer scores;
    private final float[] chunk = new float[LANES];
    private final float[] distances = new float[LANES];
    private final float[] lanes = new float[LANES];
    private int next;

    @Setup
    public void setUp() {
        scores = ByteBuffer.allocateDirect(BATCH * memory * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < BATCH * memory; i++) {
            // Squared distances of unit-norm embeddings, as the products give them.
            scores.put(i, (float) (0.25 + 3.5 * random.nextDouble()));
        }
        for (int k = 0; k < LANES; k++) {
            distances[k] = (float) Math.sqrt(scores.get(k));
        }
    }

    /** One row of scores out of the matrix, chunk by chunk. */
    @Benchmark
    public float read() {
        int base = (next++ % BATCH) * memory;
        for (int from = 0; from < memory; from += LANES) {
            scores.get(base + from, chunk, 0, Math.min(LANES, memory - from));
        }
        return chunk[0];
    }

    /** Squared distances to distances, with the per-lane maxima (AnchorScan.toDistances), on an L1-resident chunk. */
    @Benchmark
    public float sqrt() {
        float[] c = chunk;
        float[] max = lanes;
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        for (int from = 0; from < memory; from += LANES) {
            int n = Math.min(LANES, memory - from);
            for (int k = 0; k < n; k++) {
                float d = (float) Math.sqrt(Math.max(c[k], 0f));
                c[k] = d;
                max[k] = Math.max(max[k], d);
            }
        }
        return max[0];
    }

    /** The weights e^(nearest − d) of a row of distances, summed per lane, on an L1-resident chunk. */
    @Benchmark
    public float exp() {
        float[] c = distances;
        float[] sum = lanes;
        Arrays.fill(sum, 0f);
        float nearest = 0.5f;
        for (int from = 0; from < memory; from += LANES) {
            int n = Math.min(LANES, memory - from);
            for (int k = 0; k < n; k++) {
                sum[k] += FastExp.expMinus(c[k] - nearest);
            }
        }
        return sum[0];
    }
}
