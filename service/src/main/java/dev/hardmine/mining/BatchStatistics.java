package dev.hardmine.mining;

/**
 * Statistics of one mined batch (docs/DESIGN.md, mining semantics §5). Counts are over all triplets
 * of valid anchors, whatever the strategy; means of distances are over the emitted triplets.
 */
public record BatchStatistics(
        long anchors,
        long validAnchors,
        long hard,
        long semiHard,
        long easy,
        double lossBatchHard,
        double lossSemiHard,
        double lossWeighted,
        double meanDAp,
        double meanDAn,
        long memorySize,
        long memoryIdentities,
        double miningMs) {
}
