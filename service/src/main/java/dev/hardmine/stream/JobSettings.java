package dev.hardmine.stream;

import dev.hardmine.avro.JobConfig;
import dev.hardmine.mining.Distance;
import dev.hardmine.mining.MemoryBank;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MemorySampling;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.NeighborSettings;
import dev.hardmine.mining.Strategy;

/**
 * A job's effective settings: the service's defaults with the job's JobConfig overrides (null
 * fields keep the default). An override that does not validate is rejected as a whole, so a job
 * never runs with half of a bad configuration.
 */
public record JobSettings(MiningSettings mining, MemoryLimits memory, int shards, NeighborSettings neighbors) {

    public static JobSettings resolve(ServiceConfig service, JobConfig overrides) {
        JobSettings defaults = new JobSettings(service.mining(), service.memory(), service.shardsPerJob(),
                service.neighbors());
        return overrides == null ? defaults : defaults.with(overrides);
    }

    /** @throws IllegalArgumentException naming the field when an override is invalid */
    public JobSettings with(JobConfig c) {
        MiningSettings m = mining;
        MiningSettings merged = new MiningSettings(
                c.getStrategy() != null ? Strategy.fromId(c.getStrategy()) : m.strategy(),
                c.getMargin() != null ? c.getMargin() : m.margin(),
                c.getDistance() != null ? Distance.fromId(c.getDistance()) : m.distance(),
                c.getNormalize() != null ? c.getNormalize() : m.normalize(),
                c.getMaxPerAnchor() != null ? c.getMaxPerAnchor() : m.maxPerAnchor(),
                c.getNegativesPerAnchor() != null ? c.getNegativesPerAnchor() : m.negativesPerAnchor(),
                c.getSeed() != null ? c.getSeed() : m.seed(),
                new MemorySampling(
                        c.getMemoryNegatives() != null ? c.getMemoryNegatives() : m.memorySampling().negatives(),
                        c.getMemoryPositives() != null ? c.getMemoryPositives() : m.memorySampling().positives(),
                        c.getMemorySamplesMaxBytes() != null ? c.getMemorySamplesMaxBytes()
                                : m.memorySampling().maxBytes()));
        MemoryLimits limits = new MemoryLimits(
                c.getMemoryPerIdentity() != null ? c.getMemoryPerIdentity() : memory.perIdentity(),
                c.getMemoryMaxEmbeddings() != null ? c.getMemoryMaxEmbeddings() : memory.maxEmbeddings(),
                c.getMemoryMaxAgeSteps() != null ? c.getMemoryMaxAgeSteps() : memory.maxAgeSteps());
        int s = c.getShards() != null ? c.getShards() : shards;
        if (s < 1) {
            throw new IllegalArgumentException("shards must be >= 1, got " + s);
        }
        NeighborSettings n = new NeighborSettings(
                c.getNeighborsPerIdentity() != null ? c.getNeighborsPerIdentity() : neighbors.perIdentity(),
                c.getNeighborsHalfLifeSteps() != null ? c.getNeighborsHalfLifeSteps() : neighbors.halfLifeSteps());
        return new JobSettings(merged, limits, s, n);
    }

    /**
     * The memory limits with the byte budget applied: a job of dimension {@code dim} keeps its
     * entries' {@link MemoryBank#entryBytes} at or under {@code maxBytes}, and therefore at most
     * {@code maxBytes / MemoryBank.fixedEntryBytes(dim)} embeddings, whatever {@code memory.max-embeddings} says.
     */
    public MemoryLimits boundedBy(long maxBytes, int dim) {
        if (maxBytes <= 0) {
            return memory;
        }
        long byBytes = Math.max(1, maxBytes / MemoryBank.fixedEntryBytes(dim));
        long configured = memory.maxEmbeddings() == 0 ? Long.MAX_VALUE : memory.maxEmbeddings();
        int cap = (int) Math.min(Math.min(byBytes, configured), Integer.MAX_VALUE);
        return new MemoryLimits(memory.perIdentity(), cap, memory.maxAgeSteps(), maxBytes);
    }
}
