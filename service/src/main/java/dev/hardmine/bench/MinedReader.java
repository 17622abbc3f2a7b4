package dev.hardmine.bench;

import dev.hardmine.avro.MinedBatch;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.SchemaRegistryClient;
import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the mined topic as a trainer does ({@code read_committed}, so a batch counts once its
 * transaction has committed), checks that each published batch comes back exactly once, and
 * feeds the current phase's meter. Batch ids are {@code p<publisher>-<sequence>}; every batch
 * has {@code batchSize} samples, each an anchor of exactly one MinedBatch.
 */
final class MinedReader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MinedReader.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDeserializer<MinedBatch> decoder;
    private final String topic;
    private final BitSet[] seen;
    private final int batchSize;
    /** Anchors seen so far of batches that came back in part: (publisher << 32 | sequence) → anchors. */
    private final Map<Long, Long> partial = new HashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private final Runnable onSeen;
    private volatile PhaseMeter[] meters;
    private long unique;
    private long duplicates;
    private long foreign;

    /**
     * @param clientSettings bootstrap servers and any security settings of the cluster
     * @param onSeen         called for every batch seen the first time
     */
    MinedReader(Map<String, Object> clientSettings, String topic, SchemaRegistryClient registry, int publishers,
                int batchSize, Runnable onSeen) {
        this.batchSize = batchSize;
        Map<String, Object> p = new HashMap<>(clientSettings);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
        this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.decoder = new AvroDeserializer<>(MinedBatch.class, registry);
        this.topic = topic;
        this.seen = new BitSet[publishers];
        for (int i = 0; i < publishers; i++) {
            seen[i] = new BitSet();
        }
        this.onSeen = onSeen;
        this.meters = new PhaseMeter[0];
        this.thread = new Thread(this::loop, "bench-mined-reader");
        this.thread.setDaemon(true);
    }

    /** Starts reading from the end of the topic as it is now. */
    void start() {
        List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(topic, i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
        thread.start();
    }

    /** Counts from now on go to each of {@code next} (a phase, and the slice of it under way). */
    void meters(PhaseMeter... next) {
        this.meters = next.clone();
    }

    private void loop() {
        try {
            while (running.get()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    long now = System.currentTimeMillis();
                    MinedBatch m = decoder.deserialize(r.topic(), r.value());
                    if (m != null) {
                        accept(m, now);
                    }
                }
            }
        } catch (RuntimeException e) {
            if (running.get()) {
                LOG.error("the bench's reader of {} stopped", topic, e);
            }
        }
    }

    private void accept(MinedBatch m, long now) {
        String id = m.getBatchId();
        int dash = id.indexOf('-');
        int publisher;
        int sequence;
        try {
            publisher = Integer.parseInt(id, 1, dash, 10);
            sequence = Integer.parseInt(id, dash + 1, id.length(), 10);
        } catch (RuntimeException e) {
            publisher = -1;
            sequence = -1;
        }
        if (!id.startsWith("p") || publisher < 0 || publisher >= seen.length || sequence < 0) {
            synchronized (this) {
                foreign++;
            }
            return;
        }
        long anchors = m.getStats().getAnchors();
        boolean part;
        boolean complete = false;
        synchronized (this) {
            // With identity sharding a batch comes back in parts, one per shard it touched: it is
            // mined once when its parts' anchors add up to the batch, twice when any part repeats.
            long key = (long) publisher << 32 | sequence;
            long sum = seen[publisher].get(sequence) ? batchSize : partial.getOrDefault(key, 0L);
            part = sum + anchors <= batchSize;
            if (!part) {
                duplicates++;
            } else if (sum + anchors == batchSize) {
                partial.remove(key);
                seen[publisher].set(sequence);
                unique++;
                complete = true;
            } else {
                partial.put(key, sum + anchors);
            }
        }
        if (complete) {
            onSeen.run();
        }
        if (part) {
            for (PhaseMeter meter : meters) {
                meter.record(m.getProducedAt().toEpochMilli(), m.getMinedAt().toEpochMilli(), now, complete,
                        anchors, m.getTriplets().size(), m.getStats().getMiningMs(), m.getStats().getMemorySize());
            }
        }
    }

    /** Batches seen at least once. */
    synchronized long unique() {
        return unique;
    }

    /** Mined batches (or parts of one) seen again after they were complete (each extra time counts one). */
    synchronized long duplicates() {
        return duplicates;
    }

    /** Mined batches of ids this run did not publish. */
    synchronized long foreign() {
        return foreign;
    }

    /** Sequences of publisher {@code p} below {@code published} not seen. */
    synchronized long missing(int p, long published) {
        return published - seen[p].get(0, (int) published).cardinality();
    }

    @Override
    public void close() {
        running.set(false);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        consumer.close(Duration.ofSeconds(5));
        decoder.close();
    }
}
