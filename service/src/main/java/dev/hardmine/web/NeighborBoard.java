package dev.hardmine.web;

import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.Neighbor;
import dev.hardmine.registry.SchemaRegistryClient;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/**
 * Every identity's most confusable identities, per job: the latest IdentityNeighbors of each
 * (job, label), read from the compacted neighbours topic (all partitions, from the beginning) by a
 * thread of its own. A job's labels are kept for as long as the board lives (the topic keeps them
 * too); a job that does not ask for neighbours has none.
 */
public final class NeighborBoard implements AutoCloseable {
    /** job → label → its latest record, both in string order. */
    private final Map<String, Map<String, IdentityNeighbors>> byJob = new TreeMap<>();
    /** Null for a board filled through {@link #add}. */
    private TopicFollower<IdentityNeighbors> follower;

    /** A board that is filled through {@link #add}. */
    public NeighborBoard() {
    }

    /** A board that follows the neighbours topic. */
    public static NeighborBoard following(String bootstrapServers, String neighborsTopic,
                                          SchemaRegistryClient registry) {
        return following(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), neighborsTopic, registry);
    }

    /**
     * A board that follows the neighbours topic with these consumer settings (bootstrap servers,
     * security): all partitions, committed records, from the beginning; see {@link TopicFollower}
     * for what it does on failures.
     */
    public static NeighborBoard following(Map<String, Object> clientProperties, String neighborsTopic,
                                          SchemaRegistryClient registry) {
        NeighborBoard board = new NeighborBoard();
        board.follower = TopicFollower.start("neighbor board", clientProperties, neighborsTopic,
                IdentityNeighbors.class, registry, TopicFollower.Start.beginning(), board::add);
        return board;
    }

    /**
     * Adds a label's record: it replaces the one held for its (job, label), whatever its step (a
     * label's records arrive in order, from one partition; a job restarted from step 0 starts over).
     * The job and the label are the record's, not read from the topic's key.
     */
    public synchronized void add(IdentityNeighbors n) {
        byJob.computeIfAbsent(n.getJobId(), j -> new TreeMap<>()).put(n.getLabel(), n);
    }

    public synchronized List<String> jobs() {
        return new ArrayList<>(byJob.keySet());
    }

    /** The job's labels' latest records, in label order; empty for a job the board has not seen. */
    public synchronized List<IdentityNeighbors> labels(String jobId) {
        Map<String, IdentityNeighbors> labels = byJob.get(jobId);
        return labels == null ? List.of() : new ArrayList<>(labels.values());
    }

    /** The label's latest record, or null. */
    public synchronized IdentityNeighbors label(String jobId, String label) {
        Map<String, IdentityNeighbors> labels = byJob.get(jobId);
        return labels == null ? null : labels.get(label);
    }

    /** Whether the record has a neighbour with a positive score (what {@link #concentration} counts). */
    static boolean counts(IdentityNeighbors n) {
        return n.getNeighbors().stream().anyMatch(x -> x.getScore() > 0);
    }

    /**
     * How concentrated confusion is: the mean over the identities of (top neighbour's score / sum of
     * its neighbours' scores). 1 when each identity is confused with one other only; 1/N when its
     * confusion is spread evenly over N. Identities without a neighbour of positive score are left
     * out; empty when none is left.
     */
    public static OptionalDouble concentration(Collection<IdentityNeighbors> identities) {
        double sum = 0;
        int n = 0;
        for (IdentityNeighbors identity : identities) {
            double top = 0;
            double total = 0;
            for (Neighbor x : identity.getNeighbors()) {
                if (x.getScore() > 0) {
                    top = Math.max(top, x.getScore());
                    total += x.getScore();
                }
            }
            if (total > 0) {
                sum += top / total;
                n++;
            }
        }
        return n == 0 ? OptionalDouble.empty() : OptionalDouble.of(sum / n);
    }

    @Override
    public void close() {
        if (follower != null) {
            follower.close();
        }
    }
}
