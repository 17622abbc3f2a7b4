package dev.hardmine.bench;

import dev.hardmine.mining.Distance;
import dev.hardmine.mining.JobMiner;
import dev.hardmine.mining.MemoryBank;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningResult;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.SampleBatch;
import dev.hardmine.mining.Strategy;
import java.time.Duration;
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
 * The whole mining step of one batch of B = 256 anchors (64 identities × 4) against a full
 * memory of M embeddings (16 per identity): enqueue with eviction, one sgemm, per-anchor scan,
 * triplet selection and every statistic. Memory stays at M (each batch evicts as many as it
 * adds). Compare with {@link SgemmBenchmark} of the same shapes.
 *
 * <pre>mvn -B -q test-compile exec:exec@jmh -Djmh.args="MiningStepBenchmark|SgemmBenchmark -rf json -rff target/jmh.json"</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgs = {"-Xmx6g", JobMiner.VECTOR_MODULE_OPTION})
public class MiningStepBenchmark {
    static final int BATCH = 256;
    static final int PER_IDENTITY = 16;

    @Param({"16384", "65536"})
    int memory;

    @Param({"128", "512"})
    int dim;

    @Param({"batch-hard", "semi-hard"})
    String strategy;

    /** Whether the step takes the common pool's workers too (as the service does) or runs on the caller alone. */
    @Param({"true"})
    boolean parallel;

    private JobMiner miner;
    /** The job's memory, full after the setup; {@link IdleGapStepBenchmark} reads it between steps. */
    MemoryBank bank;
    private MiningSettings settings;
    private SampleBatch[] batches;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        int identities = memory / PER_IDENTITY;
        // Noise per dimension scaled so that distances do not depend on the dimension.
        SyntheticEmbeddings data = new SyntheticEmbeddings(identities, dim, (float) (0.7 / Math.sqrt(dim)), 42);
        MemoryLimits limits = new MemoryLimits(PER_IDENTITY, memory, 0);
        bank = new MemoryBank(dim, limits);
        for (int first = 0; first < identities; first += 256) {
            int n = Math.min(256, identities - first);
            SampleBatch fill = data.batch("fill-" + first, 0, first, n, n, PER_IDENTITY);
            bank.enqueue(fill, fill.embeddings());
        }
        miner = new JobMiner(limits, parallel, keepWarm());
        miner.attach(bank);
        // semi-hard keeps 8 per anchor: the full set can be thousands per anchor at this memory size.
        settings = MiningSettings.defaults().withStrategy(Strategy.fromId(strategy)).withDistance(Distance.EUCLIDEAN)
                .withMargin(0.2f).withMaxPerAnchor(8);
        batches = new SampleBatch[32];
        for (int b = 0; b < batches.length; b++) {
            batches[b] = data.batch("b" + b, 1 + b, 0, identities, BATCH / 4, 4);
        }
    }

    /** How long the miner keeps its memory warm after each step (JobMiner): not at all here. */
    Duration keepWarm() {
        return Duration.ZERO;
    }

    @Benchmark
    public MiningResult mine() {
        SampleBatch batch = batches[next];
        next = (next + 1) % batches.length;
        return miner.mine(batch, settings);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        miner.close();
    }
}
