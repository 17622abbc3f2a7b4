package dev.hardmine.mining;

import dev.hardmine.mining.internals.SharedLoop;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Mines the batches of one job against the job's rolling memory (docs/DESIGN.md, mining semantics).
 *
 * <p>Per batch: the batch is enqueued first (so anchors see their own batch-mates), matrix
 * products score the batch against the whole memory (see {@link ScoreMatrix}), then each anchor is
 * scanned once, as soon as its row's products are done — on several threads, each anchor's result
 * kept in its place so the output is the same whatever the scheduling. Statistics are computed for every batch whatever the strategy.
 *
 * <p>The memory is created with the dimension of the first batch; a later batch of another
 * dimension is rejected with {@link InvalidBatchException#DIM_MISMATCH}, one whose embeddings are
 * too large for float32 scores with {@link InvalidBatchException#NON_FINITE}
 * ({@link SampleBatch#checkScoresFinite}), both before the memory changes. Settings may change from
 * batch to batch (per-job overrides); memory limits apply from the next batch.
 *
 * <p>With a time to keep it warm, the memory and the scores are read between batches by the
 * {@link MemoryWarmer}, from the end of a batch for that time, or until the next step of any job,
 * so that the job's next step finds them in the caches; the results are the same either way.
 *
 * <p>Not thread-safe: one job, one caller.
 */
public final class JobMiner implements AutoCloseable {
    /**
     * The JVM module the anchor scans run fastest with ({@code java --add-modules jdk.incubator.vector}):
     * without it they run in plain Java, with the same results (RowPass).
     */
    public static final String VECTOR_MODULE = "jdk.incubator.vector";
    /** The JVM option that adds {@link #VECTOR_MODULE}. */
    public static final String VECTOR_MODULE_OPTION = "--add-modules=" + VECTOR_MODULE;

    /** Whether this JVM has {@link #VECTOR_MODULE}. */
    public static boolean vectorModuleLoaded() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    /** How this JVM runs the anchor scans: on the Vector API (and its vectors' width) or in plain Java, and why. */
    public static String scanPass() {
        return RowPass.describe();
    }

    private MemoryLimits limits;
    private MemoryBank memory;
    private final ScoreMatrix scores = new ScoreMatrix();
    /** By SharedLoop worker: each keeps its arrays, as long as the largest memory scanned, from batch to batch. */
    private final AnchorScan[] scans = AnchorScan.perWorker();
    /** By SharedLoop worker: the pass over the tiles it computes, or the rows it scans (passInTilesAbove). */
    private final RowPass[] passes = new RowPass[SharedLoop.workers()];
    private final RowSummaries summaries = new RowSummaries();
    /**
     * A batch's scores larger than this (bytes) are passed tile by tile, each tile right after its
     * product while it is in the thread's cache; smaller ones row by row, each once its tiles are
     * done, as they fit in the last-level cache anyway. At M = 65 536 (64 MiB) the tiles took the
     * step from 32.6 to 31.0 ms, and from 27.7 to 23.2 ms once the tiles stayed in the threads'
     * own buffers (Keeping); at 32 MiB those took it from 13.96 to 13.32 ms, at 16 MiB they cost
     * 0.6 ms of 6.4 (docs/PERFORMANCE.md). The results are the same bits either way (RowSummaries).
     */
    static final long PASS_IN_TILES_ABOVE = 16L << 20;
    /** By SharedLoop worker, made at its first use: the tile its products go to when only some reach the matrix. */
    private final ScoreMatrix.Tile[] tiles = new ScoreMatrix.Tile[SharedLoop.workers()];
    private final IntFunction<ScoreMatrix.Tile> ownTile = this::tileOf;
    private final boolean parallel;
    private final long passInTilesAbove;
    private final Keeping keeping;
    private boolean keptOnlyWhatScansRead;
    private final MemoryWarmer warmer;
    private final long keepWarmNanos;

    /**
     * Which products of a batch passed tile by tile reach the score matrix, where the scans read them:
     * for the strategies whose scans read no distance beyond their candidates (batch-hard, hard,
     * semi-hard, all), without memory samples of negatives, the products go to each thread's own tile
     * and only those the scans can read reach the matrix (ScoreMatrix.Scores#keepOnlyWhatScansRead),
     * which took the step at M = 65 536 from 27.7 to 23.2 ms (docs/PERFORMANCE.md); the results are
     * the same bits either way. Tests choose.
     */
    enum Keeping {
        /** Every product, whatever the strategy. */
        EVERYTHING,
        /** Only what the scans read, where they read no more than their candidates: the default. */
        WHAT_SCANS_READ,
        /** As WHAT_SCANS_READ, every other product NaN, so that a scan reading one cannot go unnoticed. */
        WHAT_SCANS_READ_REST_NAN
    }

    public JobMiner(MemoryLimits limits) {
        this(limits, Duration.ZERO);
    }

    /**
     * @param keepWarm how long after each batch the JVM's {@link MemoryWarmer} keeps reading the memory
     *                 and the scores (or until the next step of any job), so that the next step finds them in the
     *                 caches; zero: not at all
     */
    public JobMiner(MemoryLimits limits, Duration keepWarm) {
        this(limits, true, keepWarm);
    }

    /**
     * @param parallel score and scan anchors on the common fork-join pool too (the default) or on the caller only
     * @param keepWarm see {@link #JobMiner(MemoryLimits, Duration)}
     */
    public JobMiner(MemoryLimits limits, boolean parallel, Duration keepWarm) {
        this(limits, parallel, PASS_IN_TILES_ABOVE, Keeping.WHAT_SCANS_READ, MemoryWarmer.shared(), keepWarm);
    }

    /** @param parallel score and scan anchors on the common fork-join pool too (the default) or on the caller only */
    public JobMiner(MemoryLimits limits, boolean parallel) {
        this(limits, parallel, PASS_IN_TILES_ABOVE);
    }

    /** @param passInTilesAbove see {@link #PASS_IN_TILES_ABOVE}; tests choose either way */
    JobMiner(MemoryLimits limits, boolean parallel, long passInTilesAbove) {
        this(limits, parallel, passInTilesAbove, Keeping.WHAT_SCANS_READ);
    }

    /** @param keeping see {@link Keeping}; tests choose */
    JobMiner(MemoryLimits limits, boolean parallel, long passInTilesAbove, Keeping keeping) {
        this(limits, parallel, passInTilesAbove, keeping, MemoryWarmer.shared(), Duration.ZERO);
    }

    /** @param warmer reads the memory and scores for {@code keepWarm} after each batch (not when zero); tests give their own */
    JobMiner(MemoryLimits limits, boolean parallel, long passInTilesAbove, Keeping keeping, MemoryWarmer warmer,
             Duration keepWarm) {
        if (keepWarm.isNegative()) {
            throw new IllegalArgumentException("keepWarm must be >= 0, got " + keepWarm);
        }
        this.limits = limits;
        this.parallel = parallel;
        this.passInTilesAbove = passInTilesAbove;
        this.keeping = keeping;
        this.warmer = warmer;
        this.keepWarmNanos = keepWarm.toNanos();
        Arrays.setAll(passes, worker -> RowPass.create());
    }

    /** Whether the last batch's products reached the matrix only where its scans read them (Keeping). */
    boolean keptOnlyWhatScansRead() {
        return keptOnlyWhatScansRead;
    }

    private ScoreMatrix.Tile tileOf(int worker) {
        if (tiles[worker] == null) {
            tiles[worker] = new ScoreMatrix.Tile();
        }
        return tiles[worker];
    }

    /**
     * The tasks of one step's loop before its scans: when only what the scans read reaches the matrix
     * (Keeping), first each row's bound of what to keep, one task a row; then the tiles' products, each
     * passed right after it when the batch is passed tile by tile (in the worker's own tile when only
     * what the scans read is kept, else in the matrix), or only computed when each row is passed
     * before its scan. {@code keepFew} (after {@link ScoreMatrix.Scores#keepOnlyWhatScansRead}) goes with
     * {@code inTiles} only. MiningPartsBenchmark times them as the step runs them.
     */
    record ProductTasks(ScoreMatrix.Scores matrix, boolean keepFew, boolean inTiles, MemoryBank memory,
                        Distance distance, RowSummaries summaries) {
        /** How many: the tasks {@code [0, count())}. */
        int count() {
            return bounds() + matrix.tiles();
        }

        private int bounds() {
            return keepFew ? matrix.batch() : 0;
        }

        /** Runs {@code task} on {@code worker}, with the worker's pass and, when only what the scans read is kept, its own tile. */
        void run(int task, int worker, RowPass pass, IntFunction<ScoreMatrix.Tile> ownTile) {
            int bounds = bounds();
            if (task < bounds) {
                matrix.keepBound(task);
                return;
            }
            int t = task - bounds;
            if (keepFew) {
                ScoreMatrix.Tile tile = ownTile.apply(worker);
                matrix.computeTile(t, tile, (firstRow, rows, firstSlot, slots) ->
                        pass.tile(tile, matrix, firstRow, rows, firstSlot, slots, memory, distance, summaries));
            } else if (inTiles) {
                matrix.computeTile(t, (firstRow, rows, firstSlot, slots) ->
                        pass.tile(matrix, matrix, firstRow, rows, firstSlot, slots, memory, distance, summaries));
            } else {
                matrix.computeTile(t);
            }
        }
    }

    /** The job's memory, or null before the first batch. */
    public MemoryBank memory() {
        return memory;
    }

    /** Uses an existing memory, e.g. one rebuilt from persisted entries. */
    public void attach(MemoryBank restored) {
        stopWarming();
        if (memory != null && memory != restored) {
            memory.close();
        }
        memory = restored;
        memory.setLimits(limits);
    }

    public void setLimits(MemoryLimits limits) {
        this.limits = limits;
        if (memory != null) {
            memory.setLimits(limits);
        }
    }

    /** Enqueues {@code batch} into the memory, then mines it with {@code settings}. */
    public MiningResult mine(SampleBatch batch, MiningSettings settings) {
        long started = System.nanoTime();
        stopWarming(); // before the memory changes or grows into new rows; and the step needs the CPUs
        if (memory == null) {
            memory = new MemoryBank(batch.dim(), limits);
        } else if (memory.dim() != batch.dim()) {
            throw new InvalidBatchException(InvalidBatchException.DIM_MISMATCH,
                    "batch dim " + batch.dim() + " differs from the job's dim " + memory.dim());
        }
        batch.checkScoresFinite(settings.normalize());
        float[] ingested = settings.normalize() ? Embeddings.l2Normalized(batch.embeddings(), batch.dim())
                : batch.embeddings();
        List<String> evicted = memory.enqueue(batch, ingested);

        int n = batch.size();
        TripletSelector selector = TripletSelector.of(settings);
        AnchorOutcome[] outcomes = new AnchorOutcome[n];
        int scoresWritten = 0; // floats of the score matrix the step wrote whole, for the warmer
        if (n > 0) {
            // One loop for the products' tiles and then the scans, the row pass after each tile or
            // before each scan (passInTilesAbove): no second start of the pool's workers, and no
            // wait for the last tile before the rows that do not need it. When the scans read no
            // more than their candidates, the loop starts with each row's bound of what to keep.
            ScoreMatrix.Scores matrix = scores.prepare(memory, ingested, n, settings.distance());
            summaries.reset(memory, batch);
            boolean inTiles = (long) n * memory.size() * Float.BYTES > passInTilesAbove;
            scoresWritten = inTiles ? 0 : n * memory.size();
            boolean keepFew = inTiles && keeping != Keeping.EVERYTHING && selector.readsCandidatesOnly()
                    && settings.memorySampling().negatives() == 0 && matrix.withinExpRange();
            if (keepFew) {
                matrix.keepOnlyWhatScansRead(summaries, settings.margin());
                if (keeping == Keeping.WHAT_SCANS_READ_REST_NAN) {
                    matrix.fillWithNaN();
                }
            }
            keptOnlyWhatScansRead = keepFew;
            ProductTasks products = new ProductTasks(matrix, keepFew, inTiles, memory, settings.distance(), summaries);
            int first = products.count();
            SharedLoop.run(first + n, (task, worker) -> {
                RowPass pass = passes[worker];
                if (task < first) {
                    products.run(task, worker, pass, ownTile);
                    return;
                }
                int i = task - first;
                matrix.awaitRow(i);
                if (!inTiles) {
                    pass.tile(matrix, matrix, i, 1, 0, memory.size(), memory, settings.distance(), summaries);
                }
                AnchorScan scan = scans[worker];
                scan.scan(memory, matrix, summaries, batch.batchId(), i, batch.sampleId(i), batch.label(i), settings,
                        selector);
                outcomes[i] = new AnchorOutcome(scan);
            }, parallel);
        }
        MiningResult result = summarize(outcomes, evicted, settings.memorySampling(), started);
        if (keepWarmNanos > 0) {
            keepWarm(scoresWritten);
        }
        return result;
    }

    /**
     * Has the warmer keep the memory's rows and, when the step wrote the score matrix whole (up to
     * {@link #PASS_IN_TILES_ABOVE}, 16 MiB: every product reached it), the scores, which the next
     * step writes again: in JMH at M = 16 384 the step after a 17 ms gap took 8.7 ms with the rows
     * kept warm, 7.1–8.1 ms with the scores too, 9.5–10.0 ms with neither and 6.9 ms back to back
     * (docs/PERFORMANCE.md). Larger scores are written tile by tile into the threads' own buffers.
     */
    private void keepWarm(int scoresWritten) {
        MemoryWarmer.Region rows = new MemoryWarmer.Region(memory.rows(), memory.size() * memory.width());
        if (scoresWritten > 0) {
            warmer.keep(keepWarmNanos, rows, new MemoryWarmer.Region(scores.floats(), scoresWritten));
        } else {
            warmer.keep(keepWarmNanos, rows);
        }
    }

    /** The score matrix as floats, as the warmer reads it; tests check what it reads. */
    FloatBuffer scoreFloats() {
        return scores.floats();
    }

    /** Once it returns, the warmer reads nothing until a batch is mined again. */
    private void stopWarming() {
        if (keepWarmNanos > 0) {
            warmer.stop();
        }
    }

    private MiningResult summarize(AnchorOutcome[] outcomes, List<String> evicted, MemorySampling sampling,
                                   long started) {
        int mined = 0;
        for (AnchorOutcome o : outcomes) {
            mined += o.triplets.size();
        }
        List<MinedTriplet> triplets = new ArrayList<>(mined);
        long valid = 0;
        long hard = 0;
        long semiHard = 0;
        long easy = 0;
        double lossBatchHard = 0;
        double lossWeighted = 0;
        double semiHardSum = 0;
        long pairs = 0;
        for (AnchorOutcome o : outcomes) {
            triplets.addAll(o.triplets);
            semiHardSum += o.semiHardLossSum;
            pairs += o.positivePairs;
            if (o.valid) {
                valid++;
                hard += o.hard;
                semiHard += o.semiHard;
                easy += o.easy;
                lossBatchHard += o.lossBatchHard;
                lossWeighted += o.lossWeighted;
            }
        }
        double sumAp = 0;
        double sumAn = 0;
        for (MinedTriplet t : triplets) {
            sumAp += t.dAp();
            sumAn += t.dAn();
        }
        int count = triplets.size();
        BatchStatistics stats = new BatchStatistics(
                outcomes.length, valid, hard, semiHard, easy,
                valid > 0 ? lossBatchHard / valid : 0.0,
                pairs > 0 ? semiHardSum / pairs : 0.0,
                valid > 0 ? lossWeighted / valid : 0.0,
                count > 0 ? sumAp / count : 0.0,
                count > 0 ? sumAn / count : 0.0,
                memory.size(), memory.identities(),
                (System.nanoTime() - started) / 1e6);
        return new MiningResult(List.copyOf(triplets), stats, evicted, memorySamples(outcomes, sampling));
    }

    /** The batch's memory samples: round-robin by rank over the anchors, each once, within the byte bound. */
    private List<MemoryBank.Entry> memorySamples(AnchorOutcome[] outcomes, MemorySampling sampling) {
        if (!sampling.enabled()) {
            return List.of();
        }
        List<MemoryBank.Entry> out = new ArrayList<>();
        BitSet taken = new BitSet(memory.size());
        long bytes = 0;
        int ranks = Math.max(sampling.negatives(), sampling.positives());
        for (int rank = 0; rank < ranks; rank++) {
            for (AnchorOutcome o : outcomes) {
                for (int[] slots : o.sampled) {
                    if (rank >= slots.length || taken.get(slots[rank])) {
                        continue;
                    }
                    int slot = slots[rank];
                    String id = memory.sampleId(slot);
                    String label = memory.labelName(memory.labelId(slot));
                    bytes += MemorySampling.bytesOf(memory.dim(), id, label);
                    if (bytes > sampling.maxBytes()) {
                        return out;
                    }
                    taken.set(slot);
                    out.add(new MemoryBank.Entry(id, label, memory.step(slot), memory.seq(slot), memory.embedding(slot)));
                }
            }
        }
        return out;
    }

    /** What one anchor contributed, copied out of the thread's reusable scan. */
    private static final class AnchorOutcome {
        final boolean valid;
        final long hard;
        final long semiHard;
        final long easy;
        final double lossBatchHard;
        final double lossWeighted;
        final double semiHardLossSum;
        final long positivePairs;
        final List<MinedTriplet> triplets;
        /** Memory samples by rank: nearest negatives, then farthest positives (an anchor's negative goes first). */
        final int[][] sampled;

        AnchorOutcome(AnchorScan scan) {
            valid = scan.valid();
            hard = scan.hard;
            semiHard = scan.semiHard;
            easy = scan.easy;
            lossBatchHard = scan.lossBatchHard;
            lossWeighted = scan.lossWeighted;
            semiHardLossSum = scan.semiHardLossSum;
            positivePairs = scan.positivePairs;
            triplets = List.copyOf(scan.triplets);
            sampled = scan.sampledNegativeCount + scan.sampledPositiveCount == 0 ? NOT_SAMPLED
                    : new int[][] {Arrays.copyOf(scan.sampledNegatives, scan.sampledNegativeCount),
                            Arrays.copyOf(scan.sampledPositives, scan.sampledPositiveCount)};
        }

        private static final int[][] NOT_SAMPLED = {new int[0], new int[0]};
    }

    @Override
    public void close() {
        stopWarming();
        scores.close();
        if (memory != null) {
            memory.close();
        }
    }
}
