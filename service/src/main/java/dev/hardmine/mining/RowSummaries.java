package dev.hardmine.mining;

import dev.hardmine.mining.internals.IntList;
import java.util.Arrays;

/**
 * What the {@link RowPass} leaves of each anchor's row of one batch, chunk by chunk: the chunk's
 * smallest distance outside the anchor's identity, its largest distance (when asked for), and its
 * {@link RowPass#SUM_LANES} lane sums of e^(−d) and e^(−d)·d. The chunks of a row may be passed in any
 * order and on several threads — for large scores tile by tile, each on the thread that computed the
 * tile's products while they are in its cache (JobMiner) —; {@link #fold} then adds a row's lane sums
 * in chunk order, so the row's weight sums are the same bits as one pass over the row from its first
 * chunk to its last would give.
 *
 * <p>It also holds each anchor's identity in the memory — the slots the pass masks — sorted, set before
 * the row is passed ({@link #exclude}). Each chunk is written by one thread and read after
 * ScoreMatrix.Scores#awaitRow (or by the thread that wrote it), which orders the writes before the reads.
 */
final class RowSummaries {
    private int chunks;
    private float[] chunkMin = new float[0];
    private float[] chunkMax = new float[0];
    private float[] laneWeight = new float[0];
    private float[] laneExcess = new float[0];
    // Row r's identity slots: excluded[excludedStart[r] … excludedStart[r + 1]), sorted.
    private int[] excludedStart = new int[1];
    private int[] excluded = new int[0];

    /**
     * Makes room for {@code batch}'s rows against {@code memory}, each anchor's identity the memory's
     * slots of its label (the anchor itself among them); the chunks are left to the passes.
     */
    void reset(MemoryBank memory, SampleBatch batch) {
        int n = batch.size();
        reset(n, memory.size());
        for (int i = 0; i < n; i++) {
            int labelId = memory.labelIdOf(batch.label(i));
            IntList same = labelId >= 0 ? memory.slotsOfLabel(labelId) : null;
            if (same == null) {
                exclude(i, null, 0);
            } else {
                exclude(i, same.array(), same.size());
            }
        }
    }

    /** Makes room for {@code rows} rows of {@code size} slots, no identity set yet; the contents are left to the passes. */
    void reset(int rows, int size) {
        this.chunks = (size + RowPass.CHUNK - 1) / RowPass.CHUNK;
        int cells = rows * chunks;
        if (chunkMin.length < cells) {
            chunkMin = new float[cells];
            chunkMax = new float[cells];
            laneWeight = new float[cells * RowPass.SUM_LANES];
            laneExcess = new float[cells * RowPass.SUM_LANES];
        }
        if (excludedStart.length < rows + 1) {
            excludedStart = new int[rows + 1];
        }
        excludedStart[0] = 0;
    }

    /** Chunks per row. */
    int chunks() {
        return chunks;
    }

    /**
     * Sets row {@code row}'s identity slots to {@code slots[0 … count)} in any order (kept sorted; null
     * when none); rows are set in order, each after the one before it.
     */
    void exclude(int row, int[] slots, int count) {
        int start = excludedStart[row];
        if (excluded.length < start + count) {
            excluded = Arrays.copyOf(excluded, Math.max(start + count, excluded.length * 2));
        }
        if (count > 0) {
            System.arraycopy(slots, 0, excluded, start, count);
        }
        Arrays.sort(excluded, start, start + count);
        excludedStart[row + 1] = start + count;
    }

    /** Row {@code row}'s identity slots, sorted: {@code excluded()[excludedFrom(row) … excludedTo(row))}. */
    int[] excluded() {
        return excluded;
    }

    int excludedFrom(int row) {
        return excludedStart[row];
    }

    int excludedTo(int row) {
        return excludedStart[row + 1];
    }

    /** The smallest distance outside the row's identity in chunk {@code c} (+∞ when none). */
    float chunkMin(int row, int c) {
        return chunkMin[row * chunks + c];
    }

    /** The largest distance in chunk {@code c}, when the pass was asked for the maxima. */
    float chunkMax(int row, int c) {
        return chunkMax[row * chunks + c];
    }

    /** Records chunk {@code c} of row {@code row}: its minimum, maximum and lane sums as RowPass.chunk left them. */
    void put(int row, int c, float min, float max, float[] weights, float[] excess) {
        int cell = row * chunks + c;
        chunkMin[cell] = min;
        chunkMax[cell] = max;
        System.arraycopy(weights, 0, laneWeight, cell * RowPass.SUM_LANES, RowPass.SUM_LANES);
        System.arraycopy(excess, 0, laneExcess, cell * RowPass.SUM_LANES, RowPass.SUM_LANES);
    }

    /**
     * Row {@code row}'s Σ e^(−d) and Σ e^(−d)·d over its negatives into {@code sums[0]} and {@code sums[1]}:
     * each lane's chunk sums added into a double in chunk order, then the lanes in lane order
     * (RowPass's numeric contract). {@code lanes} is scratch of 2 · SUM_LANES doubles.
     */
    void fold(int row, double[] lanes, double[] sums) {
        Arrays.fill(lanes, 0, 2 * RowPass.SUM_LANES, 0.0);
        int from = row * chunks * RowPass.SUM_LANES;
        int to = from + chunks * RowPass.SUM_LANES;
        for (int at = from; at < to; at += RowPass.SUM_LANES) {
            for (int l = 0; l < RowPass.SUM_LANES; l++) {
                lanes[l] += laneWeight[at + l];
                lanes[RowPass.SUM_LANES + l] += laneExcess[at + l];
            }
        }
        double w = 0.0;
        double wd = 0.0;
        for (int l = 0; l < RowPass.SUM_LANES; l++) {
            w += lanes[l];
            wd += lanes[RowPass.SUM_LANES + l];
        }
        sums[0] = w;
        sums[1] = wd;
    }
}
