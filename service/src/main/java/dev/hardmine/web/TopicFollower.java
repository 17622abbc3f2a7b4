package dev.hardmine.web;

import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.retry.Backoff;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.avro.specific.SpecificRecord;
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
 * Follows one topic of Avro records in the registry's wire format — all its partitions, committed
 * records only, no consumer group — on a daemon thread of its own, and hands every record it
 * decodes to a sink, on that thread. The boards of the HTTP side ({@link StatsBoard},
 * {@link NeighborBoard}) read their topics through it.
 *
 * <p>A failure (the broker or the registry out of reach, say) is logged and the reading starts
 * over 2 s later where it stopped; a record that cannot be decoded is logged and skipped; a
 * tombstone is skipped. The follower outlives both: the dashboard shows what it has. It waits for
 * a missing topic and never creates it (the miner creates its topics with their partition counts).
 *
 * @param <T> the record type
 */
final class TopicFollower<T extends SpecificRecord> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TopicFollower.class);
    /** Between a failure and the new start: the dashboard can wait, the broker need not be pressed. */
    static final Backoff RESTART = Backoff.fixed(Duration.ofSeconds(2));

    /** Where the reading of a partition starts the first time (later, where it stopped). */
    @FunctionalInterface
    interface Start {
        /** Seeks each of {@code partitions} of the assigned {@code consumer}. */
        void seek(KafkaConsumer<?, ?> consumer, Collection<TopicPartition> partitions);

        /** From the first record kept (a compacted topic: every key's latest record). */
        static Start beginning() {
            return KafkaConsumer::seekToBeginning;
        }

        /**
         * From the first record with a timestamp at or after {@code sinceMs} (asked at each start). A
         * partition with none is read from its end, as measured before the search, so that nothing
         * arriving meanwhile is missed.
         */
        static Start since(LongSupplier sinceMs) {
            return (consumer, partitions) -> {
                Map<TopicPartition, Long> query = new HashMap<>();
                long since = sinceMs.getAsLong();
                partitions.forEach(tp -> query.put(tp, since));
                Map<TopicPartition, Long> ends = consumer.endOffsets(query.keySet());
                consumer.offsetsForTimes(query)
                        .forEach((tp, o) -> consumer.seek(tp, o != null ? o.offset() : ends.get(tp)));
            };
        }
    }

    private final String name;
    private final String topic;
    private final Map<String, Object> props;
    private final AvroDeserializer<T> decoder;
    private final Start start;
    private final Consumer<T> sink;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread reader;
    private volatile KafkaConsumer<String, byte[]> consumer;
    /** Failures since the reading last got as far as polling; the reader thread's own. */
    private int failuresInRow;

    private TopicFollower(String name, Map<String, Object> clientProperties, String topic, Class<T> type,
                          SchemaRegistryClient registry, Start start, Consumer<T> sink) {
        this.name = name;
        this.topic = topic;
        this.decoder = new AvroDeserializer<>(type, registry);
        this.start = start;
        this.sink = sink;
        Map<String, Object> p = new HashMap<>(clientProperties);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // the miner creates its topics with their partition counts; a reader must not create them first
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        this.props = p;
        this.reader = new Thread(this::read, name.replace(' ', '-'));
        this.reader.setDaemon(true);
    }

    /**
     * Starts following {@code topic}.
     *
     * @param name             for the thread and the log ("stats board")
     * @param clientProperties consumer settings: bootstrap servers, security
     * @param sink             called with each decoded record, on the follower's thread
     */
    static <T extends SpecificRecord> TopicFollower<T> start(String name, Map<String, Object> clientProperties,
                                                             String topic, Class<T> type,
                                                             SchemaRegistryClient registry, Start start,
                                                             Consumer<T> sink) {
        TopicFollower<T> follower = new TopicFollower<>(name, clientProperties, topic, type, registry, start, sink);
        follower.reader.start();
        return follower;
    }

    /** Follows the topic until closed, starting over {@link #RESTART} after a failure where it stopped. */
    private void read() {
        Map<TopicPartition, Long> next = new HashMap<>();
        while (running.get()) {
            try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(),
                    new ByteArrayDeserializer())) {
                consumer = c;
                if (running.get()) {
                    follow(c, next);
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
                Duration wait = RESTART.delay(++failuresInRow);
                LOG.warn("{}: reading {} failed, starting over in {} ms: {}", name, topic, wait.toMillis(), e.toString());
                try {
                    Thread.sleep(wait.toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            } finally {
                consumer = null;
            }
        }
    }

    /** Reads the topic's partitions from {@code next} (else from {@link #start}) on, recording where it is. */
    private void follow(KafkaConsumer<String, byte[]> consumer, Map<TopicPartition, Long> next)
            throws InterruptedException {
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
        List<TopicPartition> fresh = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            if (next.containsKey(tp)) {
                consumer.seek(tp, next.get(tp));
            } else {
                fresh.add(tp);
            }
        }
        if (!fresh.isEmpty()) {
            start.seek(consumer, fresh);
        }
        failuresInRow = 0;
        while (running.get()) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                next.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
                if (r.value() == null) {
                    continue;
                }
                T value;
                try {
                    // Decoded here rather than by the consumer: a record it cannot decode is skipped
                    // alone, without losing its neighbours of the same fetch.
                    value = decoder.deserialize(r.topic(), r.headers(), r.value());
                } catch (RuntimeException e) {
                    LOG.warn("{}: skipping the record at {}-{}@{} that cannot be read: {}", name, r.topic(),
                            r.partition(), r.offset(), e.toString());
                    continue;
                }
                sink.accept(value);
            }
        }
    }

    /** Stops the reading: a poll or a metadata wait returns at once; waits up to 5 s for the thread. */
    @Override
    public void close() {
        running.set(false);
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            reader.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
