package dev.hardmine.cli;

import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.NeighborSettings;
import dev.hardmine.stream.ServiceConfig;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * The mining and memory settings as flags, shared by every command that mines. A flag left out
 * keeps the value from the configuration file (for {@code run}) or the default.
 */
public final class MiningOptions {
    @Option(names = "--strategy", paramLabel = "NAME",
            description = "batch-hard, hard, semi-hard, easy, all, n-pair or distance-weighted (default: batch-hard).")
    String strategy;

    @Option(names = "--margin", paramLabel = "M", description = "Triplet margin, >= 0 (default: 0.2).")
    String margin;

    @Option(names = "--distance", paramLabel = "NAME",
            description = "euclidean, squared-euclidean or cosine (default: euclidean).")
    String distance;

    @Option(names = "--normalize", negatable = true,
            description = "L2-normalise embeddings on ingestion (default: off).")
    Boolean normalize;

    @Option(names = "--max-per-anchor", paramLabel = "N",
            description = "At most N triplets per anchor, smallest gap first; 0 = all (default: 0).")
    String maxPerAnchor;

    @Option(names = "--negatives-per-anchor", paramLabel = "N",
            description = "n-pair: nearest other identities per anchor (default: 5).")
    String negativesPerAnchor;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the distance-weighted sampler (default: 0).")
    String seed;

    @Option(names = "--memory-negatives", paramLabel = "N",
            description = "Send back with each mined batch the N nearest memory negatives of every anchor; 0 = none (default: 0).")
    String memoryNegatives;

    @Option(names = "--memory-positives", paramLabel = "N",
            description = "Send back with each mined batch the N farthest memory positives of every anchor; 0 = none (default: 0).")
    String memoryPositives;

    @Option(names = "--memory-samples-max-bytes", paramLabel = "B",
            description = "Bound on the memory samples sent back with one mined batch, in bytes (default: 262144).")
    String memorySamplesMaxBytes;

    @Option(names = "--neighbors-per-identity", paramLabel = "N",
            description = "Keep and publish the N identities most confusable with each identity; 0 = off "
                    + "(default: 0; the demo: 8).")
    String neighborsPerIdentity;

    @Option(names = "--neighbors-half-life-steps", paramLabel = "H",
            description = "Training steps after which a confusion event counts half (default: 200).")
    String neighborsHalfLifeSteps;

    @Option(names = "--memory-per-identity", paramLabel = "K",
            description = "Newest samples kept per label; 0 = no limit (default: 16).")
    String memoryPerIdentity;

    @Option(names = "--memory-max", paramLabel = "N",
            description = "Samples kept per job, oldest evicted first; 0 = no limit (default: 65536).")
    String memoryMax;

    @Option(names = "--max-age-steps", paramLabel = "N",
            description = "Evict samples more than N steps behind the newest; 0 = no limit (default: 0).")
    String maxAgeSteps;

    /** Writes the flags that were given over {@code p}, under their configuration keys. */
    public Properties applyTo(Properties p) {
        put(p, "mining.strategy", strategy);
        put(p, "mining.margin", margin);
        put(p, "mining.distance", distance);
        put(p, "mining.normalize", normalize == null ? null : normalize.toString());
        put(p, "mining.max-per-anchor", maxPerAnchor);
        put(p, "mining.negatives-per-anchor", negativesPerAnchor);
        put(p, "mining.seed", seed);
        put(p, "mining.memory-negatives", memoryNegatives);
        put(p, "mining.memory-positives", memoryPositives);
        put(p, "mining.memory-samples-max-bytes", memorySamplesMaxBytes);
        put(p, "neighbors.per-identity", neighborsPerIdentity);
        put(p, "neighbors.half-life-steps", neighborsHalfLifeSteps);
        put(p, "memory.per-identity", memoryPerIdentity);
        put(p, "memory.max-embeddings", memoryMax);
        put(p, "memory.max-age-steps", maxAgeSteps);
        return p;
    }

    /** Sets {@code key} when a flag gave a value. */
    static void put(Properties p, String key, String value) {
        if (value != null) {
            p.setProperty(key, value);
        }
    }

    /** @throws IllegalArgumentException with a message naming the setting */
    public MiningSettings settings() {
        return ServiceConfig.miningFrom(applyTo(new Properties()));
    }

    /** The neighbour settings, {@code perIdentity} neighbours when the flag is not given. */
    public NeighborSettings neighbors(int perIdentity) {
        Properties p = applyTo(new Properties());
        p.putIfAbsent("neighbors.per-identity", Integer.toString(perIdentity));
        return ServiceConfig.neighborsFrom(p);
    }

    public MemoryLimits limits() {
        return ServiceConfig.memoryFrom(applyTo(new Properties()));
    }
}
