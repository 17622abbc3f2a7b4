package dev.hardmine.mining;

import java.util.List;

/**
 * A mining strategy: picks an anchor's triplets from the anchor as the scan left it
 * ({@link ScannedAnchor}). Implementations are stateless apart from their settings, so one
 * instance serves every thread; scratch they reuse lives with the scan ({@link ScannedAnchor#scratch}).
 */
interface TripletSelector {

    /** Whether the scan must keep every negative as a candidate, not only those within the margin. */
    default boolean collectsAllNegatives() {
        return false;
    }

    /**
     * Whether the selector reads of the anchor no distance but its positives', its nearest negative's and its
     * candidates' (never {@link ScannedAnchor#distance}), and the scan collects only the negatives within the
     * margin: then only those products need to reach the score matrix (JobMiner.Keeping).
     */
    default boolean readsCandidatesOnly() {
        return false;
    }

    /** Appends the anchor's triplets to {@code out}; called only for valid anchors. */
    void select(ScannedAnchor anchor, List<MinedTriplet> out);

    static TripletSelector of(MiningSettings settings) {
        switch (settings.strategy()) {
            case BATCH_HARD:
                return new BatchHardStrategy();
            case HARD:
                return new TripletClassStrategy(true, false, false, settings.maxPerAnchor());
            case SEMI_HARD:
                return new TripletClassStrategy(false, true, false, settings.maxPerAnchor());
            case EASY:
                return new TripletClassStrategy(false, false, true, settings.maxPerAnchor());
            case ALL:
                return new TripletClassStrategy(true, true, false, settings.maxPerAnchor());
            case N_PAIR:
                return new NPairStrategy(settings.negativesPerAnchor());
            case DISTANCE_WEIGHTED:
                return new DistanceWeightedStrategy(settings.seed(), settings.maxPerAnchor());
            default:
                throw new IllegalArgumentException("unknown strategy " + settings.strategy());
        }
    }
}
