package dev.hardmine.cli;

import dev.hardmine.mining.Distance;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.Strategy;
import picocli.CommandLine.Option;

/** The mining and memory settings as flags, shared by every command that mines. */
public final class MiningOptions {
    @Option(names = "--strategy", paramLabel = "NAME", defaultValue = "batch-hard",
            converter = StrategyConverter.class,
            description = "batch-hard, hard, semi-hard, easy, all, n-pair or distance-weighted (default: ${DEFAULT-VALUE}).")
    Strategy strategy;

    @Option(names = "--margin", paramLabel = "M", defaultValue = "0.2",
            description = "Triplet margin, >= 0 (default: ${DEFAULT-VALUE}).")
    float margin;

    @Option(names = "--distance", paramLabel = "NAME", defaultValue = "euclidean",
            converter = DistanceConverter.class,
            description = "euclidean, squared-euclidean or cosine (default: ${DEFAULT-VALUE}).")
    Distance distance;

    @Option(names = "--normalize", description = "L2-normalise embeddings on ingestion (default: off).")
    boolean normalize;

    @Option(names = "--max-per-anchor", paramLabel = "N", defaultValue = "0",
            description = "At most N triplets per anchor, smallest gap first; 0 = all (default: ${DEFAULT-VALUE}).")
    int maxPerAnchor;

    @Option(names = "--negatives-per-anchor", paramLabel = "N", defaultValue = "5",
            description = "n-pair: nearest other identities per anchor (default: ${DEFAULT-VALUE}).")
    int negativesPerAnchor;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "Seed of the distance-weighted sampler (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--memory-per-identity", paramLabel = "K", defaultValue = "16",
            description = "Newest samples kept per label; 0 = no limit (default: ${DEFAULT-VALUE}).")
    int memoryPerIdentity;

    @Option(names = "--memory-max", paramLabel = "N", defaultValue = "65536",
            description = "Samples kept per job, oldest evicted first; 0 = no limit (default: ${DEFAULT-VALUE}).")
    int memoryMax;

    @Option(names = "--max-age-steps", paramLabel = "N", defaultValue = "0",
            description = "Evict samples more than N steps behind the newest; 0 = no limit (default: ${DEFAULT-VALUE}).")
    long maxAgeSteps;

    /** @throws IllegalArgumentException with a message naming the setting */
    public MiningSettings settings() {
        return new MiningSettings(strategy, margin, distance, normalize, maxPerAnchor, negativesPerAnchor, seed);
    }

    public MemoryLimits limits() {
        return new MemoryLimits(memoryPerIdentity, memoryMax, maxAgeSteps);
    }

    static final class StrategyConverter implements picocli.CommandLine.ITypeConverter<Strategy> {
        @Override
        public Strategy convert(String value) {
            return Strategy.fromId(value);
        }
    }

    static final class DistanceConverter implements picocli.CommandLine.ITypeConverter<Distance> {
        @Override
        public Distance convert(String value) {
            return Distance.fromId(value);
        }
    }
}
