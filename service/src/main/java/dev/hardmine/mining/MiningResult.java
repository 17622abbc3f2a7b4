package dev.hardmine.mining;

import java.util.List;

/**
 * What mining one batch produced.
 *
 * @param triplets the selected triplets, anchors in batch order, each anchor's triplets in the
 *                 strategy's order (smallest gap first for the hardness-class strategies)
 * @param stats    the batch's statistics
 * @param evicted  sample ids that left the memory while the batch was enqueued
 * @param memorySamples the memory samples to send back ({@link MemorySampling}), in their order;
 *                 empty unless the settings ask for some
 */
public record MiningResult(List<MinedTriplet> triplets, BatchStatistics stats, List<String> evicted,
                           List<MemoryBank.Entry> memorySamples) {
}
