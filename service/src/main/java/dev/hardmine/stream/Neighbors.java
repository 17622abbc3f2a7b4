package dev.hardmine.stream;

import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.Neighbor;
import dev.hardmine.avro.Triplet;
import dev.hardmine.mining.NeighborList;
import dev.hardmine.mining.NeighborSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Hard-identity neighbours from mined batches, the same for the stream and for replay: every
 * triplet of a mined batch is one confusion event of its anchor's label with its negative's
 * label, at the batch's step.
 */
public final class Neighbors {
    private Neighbors() {
    }

    /**
     * Records the batch's confusion events into the lists of the labels it touches, loaded on
     * first touch with {@code load}.
     *
     * @return the touched labels' lists, in the order of their first triplet
     */
    public static Map<String, NeighborList> record(MinedBatch batch, NeighborSettings settings,
                                                   Function<String, NeighborList> load) {
        Map<String, NeighborList> touched = new LinkedHashMap<>();
        for (Triplet t : batch.getTriplets()) {
            touched.computeIfAbsent(t.getAnchorLabel(), load)
                    .record(t.getNegativeLabel(), batch.getStep(), settings);
        }
        return touched;
    }

    /** The published form of a label's list: scores decayed to its newest step, highest first. */
    public static IdentityNeighbors toRecord(String jobId, String label, NeighborList list, NeighborSettings settings) {
        List<Neighbor> neighbors = new ArrayList<>();
        for (NeighborList.Neighbor n : list.top(settings)) {
            neighbors.add(new Neighbor(n.label(), n.score(), n.count(), n.lastStep()));
        }
        return new IdentityNeighbors(jobId, label, list.step(), neighbors);
    }
}
