package dev.hardmine.mining;

import java.util.List;

/**
 * Batch-hard (Hermans et al. 2017; pytorch-metric-learning BatchHardMiner): per anchor the
 * farthest positive and the nearest negative, ties to the earlier-inserted sample.
 */
final class BatchHardStrategy implements TripletSelector {
    @Override
    public boolean readsCandidatesOnly() {
        return true;
    }

    @Override
    public void select(ScannedAnchor anchor, List<MinedTriplet> out) {
        int p = anchor.hardestPositive();
        out.add(anchor.triplet(anchor.positiveSlot(p), anchor.positiveDistance(p), anchor.nearestNegativeSlot(),
                anchor.nearestNegativeDistance()));
    }
}
