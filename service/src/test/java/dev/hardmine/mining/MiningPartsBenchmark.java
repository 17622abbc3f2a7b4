package dev.hardmine.mining;

import dev.hardmine.bench.SyntheticEmbeddings;
import dev.hardmine.mining.internals.SharedLoop;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
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
 * The parts of the mining step of {@code MiningStepBenchmark}, apart, each on both threads: the
 * scores of a batch against the memory alone (the matrix products, in tiles shared by the threads,
 * {@code score}); the same products each followed by the row pass over its tile, as JobMiner runs
 * them for batch-hard ({@code pass}: in each thread's own tile, only what the scans read copied into
 * the matrix) and for the strategies that read whole rows ({@code passKeepingEvery}); the row pass alone over products already computed, row by row ({@code rows});
 * and the per-anchor scans once every row is passed (batch-hard selection and every statistic,
 * {@code scan}). {@code pass + scan} against the whole step shows what the rest (enqueue, summary)
 * costs, {@code pass − score} what the row pass does over tiles in cache.
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
    private final RowPass[] passes = new RowPass[SharedLoop.workers()];
    private final RowSummaries summaries = new RowSummaries();
    private final RowSummaries passSummaries = new RowSummaries();
    private final ScoreMatrix.Tile[] ownTiles = new ScoreMatrix.Tile[SharedLoop.workers()];
    private final IntFunction<ScoreMatrix.Tile> ownTile = worker -> ownTiles[worker];

    {
        Arrays.setAll(passes, worker -> RowPass.create());
        Arrays.setAll(ownTiles, worker -> new ScoreMatrix.Tile());
    }

    @Param({"16384", "65536"})
    int memory;

    @Param({"128"})
    int dim;

    private MemoryBank bank;
    private ScoreMatrix scores;
    private ScoreMatrix passScores; // pass()'s own, so that scan() keeps reading the matrix of setUp
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
        passScores = new ScoreMatrix();
        matrix = scores.prepare(bank, batch.embeddings(), BATCH, Distance.EUCLIDEAN);
        summaries.reset(bank, batch);
        for (int tile = 0; tile < matrix.tiles(); tile++) {
            matrix.computeTile(tile, (firstRow, rows, firstSlot, slots) ->
                    passes[0].tile(matrix, matrix, firstRow, rows, firstSlot, slots, bank, Distance.EUCLIDEAN, summaries));
        }
    }

    @Benchmark
    public ScoreMatrix.Scores score() {
        return scores.compute(bank, batch.embeddings(), BATCH, Distance.EUCLIDEAN, true);
    }

    /**
     * The products with the row pass over each tile right after it, as JobMiner runs them for batch-hard:
     * each row's bound of what to keep, then each tile in its thread's own buffer, passed there, and what the
     * scans read of it copied into the matrix (JobMiner.Keeping).
     */
    @Benchmark
    public ScoreMatrix.Scores pass() {
        ScoreMatrix.Scores m = passScores.prepare(bank, batch.embeddings(), BATCH, Distance.EUCLIDEAN);
        passSummaries.reset(bank, batch);
        m.keepOnlyWhatScansRead(passSummaries, settings.margin());
        return runProducts(new JobMiner.ProductTasks(m, true, true, bank, Distance.EUCLIDEAN, passSummaries));
    }

    /** The same with every product in the matrix, as JobMiner runs the strategies that read whole rows. */
    @Benchmark
    public ScoreMatrix.Scores passKeepingEvery() {
        ScoreMatrix.Scores m = passScores.prepare(bank, batch.embeddings(), BATCH, Distance.EUCLIDEAN);
        passSummaries.reset(bank, batch);
        return runProducts(new JobMiner.ProductTasks(m, false, true, bank, Distance.EUCLIDEAN, passSummaries));
    }

    private ScoreMatrix.Scores runProducts(JobMiner.ProductTasks products) {
        SharedLoop.run(products.count(), (task, worker) -> products.run(task, worker, passes[worker], ownTile), true);
        return products.matrix();
    }

    /**
     * The row pass alone over every row of the products of setUp, row by row on both threads, as JobMiner
     * passes batches of up to 16 MiB of scores before their scans.
     */
    @Benchmark
    public RowSummaries rows() {
        int chunks = (bank.size() + RowPass.CHUNK - 1) / RowPass.CHUNK;
        passSummaries.reset(bank, batch);
        SharedLoop.run(BATCH, (i, worker) -> passes[worker].run(matrix, matrix, i, 0, chunks, bank.size(), Distance.EUCLIDEAN,
                bank.inverseNorms(), !matrix.withinExpRange(), passSummaries), true);
        return passSummaries;
    }

    /** The anchors' scans once the products are passed (every row's summary ready). */
    @Benchmark
    public int scan() {
        int[] found = new int[BATCH];
        SharedLoop.run(BATCH, (i, worker) -> {
            AnchorScan scan = scans[worker];
            scan.scan(bank, matrix, summaries, batch.batchId(), i, batch.sampleId(i), batch.label(i), settings,
                    selector);
            found[i] = scan.triplets.size();
        }, true);
        return Arrays.stream(found).sum();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scores.close();
        passScores.close();
    }
}
