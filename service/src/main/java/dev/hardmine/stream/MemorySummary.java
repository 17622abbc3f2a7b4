package dev.hardmine.stream;

/**
 * What a job's memory holds: embeddings, distinct identities (labels), the oldest and newest
 * training step among them (-1 when empty), and the embedding dimension.
 */
public record MemorySummary(long size, long identities, long oldestStep, long newestStep, int dim) {

    /**
     * The memory of a job whose parts live on several instances (identity shards): sizes and
     * identities add up (a label lives in one shard only), steps span both.
     */
    public MemorySummary plus(MemorySummary other) {
        if (other.size == 0) {
            return new MemorySummary(size, identities, oldestStep, newestStep, Math.max(dim, other.dim));
        }
        if (size == 0) {
            return other.plus(this);
        }
        return new MemorySummary(size + other.size, identities + other.identities,
                Math.min(oldestStep, other.oldestStep), Math.max(newestStep, other.newestStep), Math.max(dim, other.dim));
    }
}
