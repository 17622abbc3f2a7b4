package dev.hardmine.mining;

import dev.hardmine.bench.SyntheticEmbeddings;
import dev.hardmine.mining.internals.SharedLoop;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The two parts of the mining step of {@code MiningStepBenchmark}, apart: the scores of a batch
 * against the memory (the matrix products, in tiles shared by both threads, as JobMiner runs them), and
 * the per-anchor scans of one score matrix (batch-hard selection and every statistic), also on
 * both threads. Their sum against the whole step shows what the rest (enqueue, summary) costs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgs = {"-Xmx6g", JobMiner.VECTOR_MODULE_OPTION})
public class MiningPartsBenchmark {
    private static final int BATCH = 256;
    private static final int PER_IDENTITY = 16;
    private final AnchorScan[] scans = AnchorScan.perWorker();

    @Param({"16384", "65536"})
    int memory;

    @Param({"128"})
    int dim;

    private MemoryBank bank;
    private ScoreMatrix scores;
    private SampleBatch batch;
    private ScoreMatrix.Scores matrix;
    private MiningSettings settings;
    private TripletSelector selector;

    @Setup(Level.Trial)
    public void setUp() {
        int identities = memory / PER_IDENTITY;
        SyntheticEmbeddings data = new SyntheticEmbeddings(identities, dim, (float) (0.7 / Math.sqrt(dim)), 42);
        bank = new MemoryBank(dim, new MemoryLimits(PER_IDENTITY, memory, 0));
        for (int first = 0; first < identities; first += 256) {
            int n = Math.min(256, identities - first);
            SampleBatch fill = data.batch("fill-" + first, 0, first, n, n, PER_IDENTITY);
            bank.enqueue(fill, fill.embeddings());
        }
        batch = data.batch("b", 1, 0, identities, BATCH / 4, 4);
        bank.enqueue(batch, batch.embeddings());
        settings = MiningSettings.defaults().withDistance(Distance.EUCLIDEAN).withMargin(0.2f);
        selector = TripletSelector.of(settings);
        scores = new ScoreMatrix();
        matrix = scores.compute(bank, batch.embeddings(), BATCH, Distance.EUCLIDEAN, true);
    }

    @Benchmark
    public ScoreMatrix.Scores score() {
        return scores.compute(bank, batch.embeddings(), BATCH, Distance.EUCLIDEAN, true);
    }

    @Benchmark
    public int scan() {
        int[] found = new int[BATCH];
        SharedLoop.run(BATCH, (i, worker) -> {
            AnchorScan scan = scans[worker];
            scan.scan(bank, matrix, batch.batchId(), i, batch.sampleId(i), batch.label(i), settings, selector);
            found[i] = scan.triplets.size();
        }, true);
        return Arrays.stream(found).sum();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scores.close();
    }
}
