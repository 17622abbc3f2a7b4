package dev.hardmine.mining;

import java.util.List;

/** Hand-written batches for worked examples. */
final class Batches {
    private Batches() {
    }

    /**
     * A batch from samples written {@code "id:label:x1,x2,…"}, e.g. {@code batch("b1", 7, "a:A:0,1", "n:B:2,0")}.
     */
    static SampleBatch batch(String batchId, long step, String... samples) {
        int n = samples.length;
        String[] ids = new String[n];
        String[] labels = new String[n];
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
            String[] parts = samples[i].split(":");
            ids[i] = parts[0];
            labels[i] = parts[1];
            String[] values = parts[2].split(",");
            rows[i] = new float[values.length];
            for (int k = 0; k < values.length; k++) {
                rows[i][k] = Float.parseFloat(values[k]);
            }
        }
        return batch(batchId, step, ids, labels, rows);
    }

    static SampleBatch batch(String batchId, long step, String[] ids, String[] labels, float[][] rows) {
        int dim = rows.length == 0 ? 1 : rows[0].length;
        float[] embeddings = new float[rows.length * dim];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, embeddings, i * dim, dim);
        }
        return new SampleBatch(batchId, "w", step, dim, ids, labels, embeddings);
    }

    /** The triplets of one anchor, as "anchor,positive,negative". */
    static List<String> tripletsOf(MiningResult r, String anchorId) {
        return r.triplets().stream().filter(t -> t.anchorId().equals(anchorId))
                .map(t -> t.anchorId() + "," + t.positiveId() + "," + t.negativeId()).toList();
    }

    /** Mines {@code batches} in order on a fresh miner with unbounded memory; returns the last result. */
    static MiningResult mineInOrder(MiningSettings settings, SampleBatch... batches) {
        return mineInOrder(MemoryLimits.unbounded(), settings, batches);
    }

    static MiningResult mineInOrder(MemoryLimits limits, MiningSettings settings, SampleBatch... batches) {
        try (JobMiner miner = new JobMiner(limits)) {
            MiningResult last = null;
            for (SampleBatch b : batches) {
                last = miner.mine(b, settings);
            }
            return last;
        }
    }
}
