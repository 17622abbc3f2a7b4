package dev.hardmine.mining;

import java.util.List;

/**
 * Batch-hard (Hermans et al. 2017; pytorch-metric-learning BatchHardMiner): per anchor the
 * farthest positive and the nearest negative, ties to the earlier-inserted sample.
 */
final class BatchHardStrategy implements TripletSelector {
    @Override
    public void select(AnchorScan scan, List<MinedTriplet> out) {
        int p = scan.hardestPositive;
        out.add(scan.triplet(scan.posSlot[p], scan.posDist[p], scan.nearestSlot, scan.nearestDist));
    }
}
