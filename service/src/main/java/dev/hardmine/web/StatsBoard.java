package dev.hardmine.web;

import dev.hardmine.avro.MiningStats;
import dev.hardmine.registry.SchemaRegistryClient;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/**
 * The recent MiningStats of every job, read from the stats topic (all partitions, from the start
 * of the retained hour) by a thread of its own. A window's record is updated as its batches arrive;
 * the board keeps the latest version of each window, at most one hour of windows per job.
 */
public final class StatsBoard implements AutoCloseable {
    private static final long KEEP_MS = Duration.ofHours(1).toMillis();

    private final Map<String, Deque<MiningStats>> byJob = new TreeMap<>();
    private final List<Consumer<MiningStats>> listeners = new CopyOnWriteArrayList<>();
    /** Null for a board filled through {@link #add}. */
    private TopicFollower<MiningStats> follower;

    /** A board that is filled through {@link #add}. */
    public StatsBoard() {
    }

    /** A board that follows the stats topic. */
    public static StatsBoard following(String bootstrapServers, String statsTopic, SchemaRegistryClient registry) {
        return following(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), statsTopic, registry);
    }

    /**
     * A board that follows the stats topic with these consumer settings (bootstrap servers,
     * security): all partitions, committed records, from the start of the retained hour; see
     * {@link TopicFollower} for what it does on failures.
     */
    public static StatsBoard following(Map<String, Object> clientProperties, String statsTopic,
                                       SchemaRegistryClient registry) {
        StatsBoard board = new StatsBoard();
        board.follower = TopicFollower.start("stats board", clientProperties, statsTopic, MiningStats.class, registry,
                TopicFollower.Start.since(() -> System.currentTimeMillis() - KEEP_MS), board::add);
        return board;
    }

    /** Calls the listener with every window record added from now on, on the adding thread. */
    public void addListener(Consumer<MiningStats> listener) {
        listeners.add(listener);
    }

    public void removeListener(Consumer<MiningStats> listener) {
        listeners.remove(listener);
    }

    /** Adds a window's record; a newer version of the job's latest window replaces it. */
    public void add(MiningStats s) {
        keep(s);
        listeners.forEach(l -> l.accept(s));
    }

    private synchronized void keep(MiningStats s) {
        Deque<MiningStats> windows = byJob.computeIfAbsent(s.getJobId(), j -> new ArrayDeque<>());
        MiningStats last = windows.peekLast();
        if (last != null && last.getWindowStart().equals(s.getWindowStart())) {
            windows.pollLast();
        }
        windows.addLast(s);
        long cutoff = s.getWindowEnd().toEpochMilli() - KEEP_MS;
        while (!windows.isEmpty() && windows.peekFirst().getWindowEnd().toEpochMilli() < cutoff) {
            windows.pollFirst();
        }
    }

    public synchronized List<String> jobs() {
        return new ArrayList<>(byJob.keySet());
    }

    /** The job's windows that end after {@code sinceMs}, oldest first. */
    public synchronized List<MiningStats> stats(String jobId, long sinceMs) {
        List<MiningStats> out = new ArrayList<>();
        for (MiningStats s : byJob.getOrDefault(jobId, new ArrayDeque<>())) {
            if (s.getWindowEnd().toEpochMilli() > sinceMs) {
                out.add(s);
            }
        }
        return out;
    }

    @Override
    public void close() {
        if (follower != null) {
            follower.close();
        }
    }
}
