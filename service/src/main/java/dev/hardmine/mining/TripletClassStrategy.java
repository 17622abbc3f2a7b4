package dev.hardmine.mining;

import java.util.List;
import java.util.PriorityQueue;

/**
 * Every triplet of the chosen hardness classes (hard, semi-hard, easy, or hard ∪ semi-hard for
 * {@code all}), as pytorch-metric-learning's TripletMarginMiner selects them.
 *
 * <p>Order: smallest gap first; equal gaps by positive insertion order, then by negative distance
 * and insertion order. {@code maxPerAnchor} > 0 keeps that many from the front. Per positive the
 * class is a contiguous range of the anchor's sorted candidates, so the selection is a k-way
 * merge of P ranges that stops after {@code maxPerAnchor} triplets.
 */
final class TripletClassStrategy implements TripletSelector {
    private final boolean hard;
    private final boolean semiHard;
    private final boolean easy;
    private final int maxPerAnchor;

    TripletClassStrategy(boolean hard, boolean semiHard, boolean easy, int maxPerAnchor) {
        this.hard = hard;
        this.semiHard = semiHard;
        this.easy = easy;
        this.maxPerAnchor = maxPerAnchor;
    }

    @Override
    public boolean collectsAllNegatives() {
        return easy;
    }

    @Override
    public boolean readsCandidatesOnly() {
        return !easy;
    }

    @Override
    public void select(ScannedAnchor anchor, List<MinedTriplet> out) {
        int p = anchor.positiveCount();
        int[] next = new int[p];
        int[] end = new int[p];
        for (int k = 0; k < p; k++) {
            float dAp = anchor.positiveDistance(k);
            int atMostAp = anchor.countAtMost(dAp);
            int atMostSemi = anchor.countAtMost(TripletClass.semiHardBound(dAp, anchor.margin()));
            next[k] = hard ? 0 : (semiHard ? atMostAp : atMostSemi);
            end[k] = easy ? anchor.candidateCount() : (semiHard ? atMostSemi : atMostAp);
        }
        PriorityQueue<Integer> heads = new PriorityQueue<>(Math.max(1, p), (x, y) -> compare(anchor, next, x, y));
        for (int k = 0; k < p; k++) {
            if (next[k] < end[k]) {
                heads.add(k);
            }
        }
        long limit = maxPerAnchor > 0 ? maxPerAnchor : Long.MAX_VALUE;
        long emitted = 0;
        while (!heads.isEmpty() && emitted < limit) {
            int k = heads.poll();
            int c = next[k]++;
            out.add(anchor.triplet(anchor.positiveSlot(k), anchor.positiveDistance(k), anchor.candidateSlot(c),
                    anchor.candidateDistance(c)));
            emitted++;
            if (next[k] < end[k]) {
                heads.add(k);
            }
        }
    }

    private static int compare(ScannedAnchor anchor, int[] next, int x, int y) {
        float gapX = anchor.candidateDistance(next[x]) - anchor.positiveDistance(x);
        float gapY = anchor.candidateDistance(next[y]) - anchor.positiveDistance(y);
        int byGap = Float.compare(gapX, gapY);
        if (byGap != 0) {
            return byGap;
        }
        // Positives are listed in insertion order, so the index orders them by insertion.
        return Integer.compare(x, y);
    }
}
