package dev.hardmine.mining;

/**
 * One mined triplet: the anchor comes from the batch, positive and negative from the memory
 * (which holds the batch too). Distances are those of the job's {@link Distance}.
 */
public record MinedTriplet(
        String anchorId,
        String positiveId,
        String negativeId,
        String anchorLabel,
        String negativeLabel,
        float dAp,
        float dAn,
        long positiveStep,
        long negativeStep) {
}
