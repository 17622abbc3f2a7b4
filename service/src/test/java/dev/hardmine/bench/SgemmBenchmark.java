package dev.hardmine.bench;

import dev.hardmine.mining.JobMiner;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
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
 * The ceiling for {@link MiningStepBenchmark}: ND4J's single-precision
 * {@code gemm(A[B×D], M[M×D]ᵀ)} alone, c-order operands, the transpose in the call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgs = {"-Xmx6g", JobMiner.VECTOR_MODULE_OPTION})
public class SgemmBenchmark {
    @Param({"16384", "65536"})
    int memory;

    @Param({"128", "512"})
    int dim;

    private INDArray anchors;
    private INDArray bank;
    private INDArray out;

    @Setup(Level.Trial)
    public void setUp() {
        Nd4j.getRandom().setSeed(7);
        anchors = Nd4j.rand(DataType.FLOAT, MiningStepBenchmark.BATCH, dim);
        bank = Nd4j.rand(DataType.FLOAT, memory, dim);
        out = Nd4j.createUninitialized(DataType.FLOAT, MiningStepBenchmark.BATCH, memory);
    }

    @Benchmark
    public INDArray sgemm() {
        return Nd4j.gemm(anchors, bank, out, false, true, 1.0, 0.0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        anchors.close();
        bank.close();
        out.close();
    }
}
