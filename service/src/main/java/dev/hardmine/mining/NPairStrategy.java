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

    NPairStrategy(int negativesPerAnchor) {
        this.negativesPerAnchor = negativesPerAnchor;
    }

    /** Per label: the nearest sample's slot; the labels met; their sort keys. */
    private static final class Scratch {
        int[] bestSlot = new int[0];
        int[] touched = new int[0];
        long[] keys = new long[0];
    }

    @Override
    public void select(ScannedAnchor anchor, List<MinedTriplet> out) {
        MemoryBank memory = anchor.memory();
        Scratch s = anchor.scratch(Scratch.class, Scratch::new);
        int labels = memory.labelCount();
        if (s.bestSlot.length < labels) {
            s.bestSlot = new int[labels];
            s.touched = new int[labels];
            s.keys = new long[labels];
        }
        int[] best = s.bestSlot;
        Arrays.fill(best, 0, labels, -1);
        int touched = 0;
        int scanned = anchor.slots();
        for (int j = 0; j < scanned; j++) {
            float d = anchor.distance(j);
            if (d == Float.POSITIVE_INFINITY) {
                continue;
            }
            int label = memory.labelId(j);
            int b = best[label];
            if (b < 0) {
                best[label] = j;
                s.touched[touched++] = label;
            } else {
                float db = anchor.distance(b);
                if (d < db || (d == db && memory.seq(j) < memory.seq(b))) {
                    best[label] = j;
                }
            }
        }
        for (int i = 0; i < touched; i++) {
            s.keys[i] = SortKeys.key(anchor.distance(best[s.touched[i]]), i);
        }
        Arrays.sort(s.keys, 0, touched);
        int[] slots = new int[touched];
        float[] dists = new float[touched];
        for (int i = 0; i < touched; i++) {
            slots[i] = best[s.touched[SortKeys.index(s.keys[i])]];
            dists[i] = anchor.distance(slots[i]);
        }
        SortKeys.orderTiesByInsertion(slots, dists, touched, memory);

        int p = anchor.hardestPositive();
        int take = Math.min(negativesPerAnchor, touched);
        for (int i = 0; i < take; i++) {
            out.add(anchor.triplet(anchor.positiveSlot(p), anchor.positiveDistance(p), slots[i], dists[i]));
        }
    }
}
