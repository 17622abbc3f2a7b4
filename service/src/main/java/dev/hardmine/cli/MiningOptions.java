package dev.hardmine.cli;

import picocli.CommandLine.Option;

/**
 * The mining and memory settings as flags, shared by every command that mines. Each names its key
 * ({@code descriptionKey}); its help and default come from the key's declaration
 * ({@link SettingFlags}). A flag left out keeps the value from the configuration file (for
 * {@code run}), the environment or the default.
 */
public final class MiningOptions {
    @Option(names = "--strategy", paramLabel = "NAME", descriptionKey = "mining.strategy")
    String strategy;

    @Option(names = "--margin", paramLabel = "M", descriptionKey = "mining.margin")
    String margin;

    @Option(names = "--distance", paramLabel = "NAME", descriptionKey = "mining.distance")
    String distance;

    @Option(names = "--normalize", negatable = true, descriptionKey = "mining.normalize")
    Boolean normalize;

    @Option(names = "--max-per-anchor", paramLabel = "N", descriptionKey = "mining.max-per-anchor")
    String maxPerAnchor;

    @Option(names = "--negatives-per-anchor", paramLabel = "N", descriptionKey = "mining.negatives-per-anchor")
    String negativesPerAnchor;

    @Option(names = "--seed", paramLabel = "S", descriptionKey = "mining.seed")
    String seed;

    @Option(names = "--memory-negatives", paramLabel = "N", descriptionKey = "mining.memory-negatives")
    String memoryNegatives;

    @Option(names = "--memory-positives", paramLabel = "N", descriptionKey = "mining.memory-positives")
    String memoryPositives;

    @Option(names = "--memory-samples-max-bytes", paramLabel = "B", descriptionKey = "mining.memory-samples-max-bytes")
    String memorySamplesMaxBytes;

    @Option(names = "--neighbors-per-identity", paramLabel = "N", descriptionKey = "neighbors.per-identity")
    String neighborsPerIdentity;

    @Option(names = "--neighbors-half-life-steps", paramLabel = "H", descriptionKey = "neighbors.half-life-steps")
    String neighborsHalfLifeSteps;

    @Option(names = "--memory-per-identity", paramLabel = "K", descriptionKey = "memory.per-identity")
    String memoryPerIdentity;

    @Option(names = "--memory-max", paramLabel = "N", descriptionKey = "memory.max-embeddings")
    String memoryMax;

    @Option(names = "--max-age-steps", paramLabel = "N", descriptionKey = "memory.max-age-steps")
    String maxAgeSteps;
}
