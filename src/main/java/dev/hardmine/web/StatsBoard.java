package dev.hardmine.web;

import dev.hardmine.avro.MiningStats;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.SchemaRegistryClient;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The recent MiningStats of every job, read from the stats topic (all partitions, from the start
 * of the retained hour) by a thread of its own. A window's record is updated as its batches arrive;
 * the board keeps the latest version of each window, at most one hour of windows per job.
 */
public final class StatsBoard implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StatsBoard.class);
    private static final long KEEP_MS = Duration.ofHours(1).toMillis();

    private final Map<String, Deque<MiningStats>> byJob = new TreeMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Consumer<MiningStats>> listeners = new CopyOnWriteArrayList<>();
    private Thread reader;
    private volatile KafkaConsumer<String, byte[]> consumer;

    /** A board that is filled through {@link #add}. */
    public StatsBoard() {
    }

    /** A board that follows the stats topic. */
    public static StatsBoard following(String bootstrapServers, String statsTopic, SchemaRegistryClient registry) {
        return following(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), statsTopic, registry);
    }

    /** A board that follows the stats topic with these consumer settings (bootstrap servers, security). */
    public static StatsBoard following(Map<String, Object> clientProperties, String statsTopic,
                                       SchemaRegistryClient registry) {
        StatsBoard board = new StatsBoard();
        Map<String, Object> props = new HashMap<>(clientProperties);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // the miner creates its topics with their partition counts; a reader must not create them first
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        board.reader = new Thread(() -> board.read(props, statsTopic, registry), "stats-board");
        board.reader.setDaemon(true);
        board.reader.start();
        return board;
    }

    /**
     * Follows the topic until closed. A failure (the broker or the registry out of reach, say)
     * is logged and the reading starts over 2 s later where it stopped; a record that cannot be
     * decoded is logged and skipped. The board outlives both: the dashboard shows what it has.
     */
    private void read(Map<String, Object> props, String topic, SchemaRegistryClient registry) {
        Map<TopicPartition, Long> next = new HashMap<>();
        while (running.get()) {
            try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(),
                    new ByteArrayDeserializer())) {
                consumer = c;
                if (running.get()) {
                    follow(c, topic, new AvroDeserializer<>(MiningStats.class, registry), next);
                }
            } catch (WakeupException e) {
                return; // closing
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!running.get()) {
                    return;
                }
                LOG.warn("stats board: reading {} failed, starting over in 2 s: {}", topic, e.toString());
                try {
                    Thread.sleep(2_000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            } finally {
                consumer = null;
            }
        }
    }

    /** Reads the topic's partitions from {@code next} (else from an hour ago) on, recording where it is. */
    private void follow(KafkaConsumer<String, byte[]> consumer, String topic, AvroDeserializer<MiningStats> decoder,
                        Map<TopicPartition, Long> next) throws InterruptedException {
        List<TopicPartition> partitions = new ArrayList<>();
        while (running.get() && partitions.isEmpty()) {
            for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(10))) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
            if (partitions.isEmpty()) {
                Thread.sleep(200); // the topic does not exist yet
            }
        }
        consumer.assign(partitions);
        Map<TopicPartition, Long> query = new HashMap<>();
        long since = System.currentTimeMillis() - KEEP_MS;
        for (TopicPartition tp : partitions) {
            if (next.containsKey(tp)) {
                consumer.seek(tp, next.get(tp));
            } else {
                query.put(tp, since);
            }
        }
        if (!query.isEmpty()) {
            // The ends first: a partition with nothing of the last hour is read from its end as it
            // was before the search, so nothing that arrives meanwhile is missed.
            Map<TopicPartition, Long> ends = consumer.endOffsets(query.keySet());
            consumer.offsetsForTimes(query)
                    .forEach((tp, o) -> consumer.seek(tp, o != null ? o.offset() : ends.get(tp)));
        }
        while (running.get()) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                next.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
                if (r.value() == null) {
                    continue;
                }
                MiningStats stats;
                try {
                    // Decoded here rather than by the consumer: a record it cannot decode is skipped
                    // alone, without losing its neighbours of the same fetch.
                    stats = decoder.deserialize(r.topic(), r.headers(), r.value());
                } catch (RuntimeException e) {
                    LOG.warn("stats board: skipping the record at {}-{}@{} that cannot be read: {}", r.topic(),
                            r.partition(), r.offset(), e.toString());
                    continue;
                }
                add(stats);
            }
        }
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
        running.set(false);
        if (reader == null) {
            return;
        }
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup(); // a poll or a metadata wait returns at once
        }
        try {
            reader.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
