package dev.hardmine.mining;

import dev.hardmine.mining.internals.SortKeys;
import java.util.Arrays;
import java.util.List;

/**
 * Multi-negative mining for N-pair style losses: per anchor the farthest positive and, for each of
 * the {@code negativesPerAnchor} nearest other identities, that identity's nearest sample.
 * Triplets are ordered by negative distance, ties by insertion order.
 */
final class NPairStrategy implements TripletSelector {
    private final int negativesPerAnchor;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    NPairStrategy(int negativesPerAnchor) {
        this.negativesPerAnchor = negativesPerAnchor;
    }

    private static final class Scratch {
        int[] bestSlot = new int[0];
        int[] touched = new int[0];
        long[] keys = new long[0];
        float[] tieBound = new float[0];
    }

    @Override
    public void select(AnchorScan scan, List<MinedTriplet> out) {
        MemoryBank memory = scan.memory;
        Scratch s = scratch.get();
        int labels = memory.labelCount();
        if (s.bestSlot.length < labels) {
            s.bestSlot = new int[labels];
            s.touched = new int[labels];
            s.keys = new long[labels];
            s.tieBound = new float[labels];
        }
        int[] best = s.bestSlot;
        Arrays.fill(best, 0, labels, -1);
        int touched = 0;
        float[] row = scan.row;
        for (int j = 0; j < scan.size; j++) {
            float score = row[j];
            if (score == Float.POSITIVE_INFINITY) {
                continue;
            }
            int label = memory.labelId(j);
            int b = best[label];
            if (b < 0) {
                best[label] = j;
                s.touched[touched++] = label;
            } else if (score < row[b] || (score == row[b] && memory.seq(j) < memory.seq(b))) {
                best[label] = j;
            }
        }
        // Ties are at equal distance, and several scores can round to one distance: within each
        // identity, an earlier sample at the same distance as the smallest score wins.
        Distance distance = scan.distance;
        float[] tieBound = s.tieBound;
        for (int i = 0; i < touched; i++) {
            int label = s.touched[i];
            tieBound[label] = distance.scoreBound(distance.toDistance(row[best[label]]));
        }
        for (int j = 0; j < scan.size; j++) {
            float score = row[j];
            if (score == Float.POSITIVE_INFINITY) {
                continue;
            }
            int label = memory.labelId(j);
            if (score <= tieBound[label] && memory.seq(j) < memory.seq(best[label])) {
                best[label] = j;
            }
        }
        int[] slots = new int[touched];
        float[] distances = new float[touched];
        for (int i = 0; i < touched; i++) {
            s.keys[i] = SortKeys.key(distance.toDistance(row[best[s.touched[i]]]), i);
        }
        Arrays.sort(s.keys, 0, touched);
        for (int i = 0; i < touched; i++) {
            slots[i] = best[s.touched[SortKeys.index(s.keys[i])]];
            distances[i] = distance.toDistance(row[slots[i]]);
        }
        SortKeys.orderTiesByInsertion(slots, distances, touched, memory);

        int p = scan.hardestPositive;
        int take = Math.min(negativesPerAnchor, touched);
        for (int i = 0; i < take; i++) {
            out.add(scan.triplet(scan.posSlot[p], scan.posDist[p], slots[i], distances[i]));
        }
    }
}
