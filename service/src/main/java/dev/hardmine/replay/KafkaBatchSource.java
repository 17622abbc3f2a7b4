package dev.hardmine.replay;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.SchemaRegistryClient;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * EmbeddingBatch records of a topic, read partition by partition between two offsets (or two
 * timestamps), read_committed. A job's batches all live in one partition (keyed by job_id), so each
 * job's batches come in the order the miner saw them. The end is fixed when the source opens: a
 * replay of a live topic stops at what was there.
 */
public final class KafkaBatchSource implements BatchSource {
    /** Where to start and stop: offsets win over timestamps; null = the partition's start / end. */
    public record Range(Long fromOffset, Long fromTimestamp, Long toOffset, Long toTimestamp) {
        public static Range all() {
            return new Range(null, null, null, null);
        }
    }

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDeserializer<EmbeddingBatch> deserializer;
    private final String topic;
    private final Deque<TopicPartition> partitions = new ArrayDeque<>();
    private final Map<TopicPartition, long[]> bounds = new HashMap<>();
    private final Deque<ConsumerRecord<byte[], byte[]>> buffered = new ArrayDeque<>();
    private TopicPartition current;
    private String position = "start";

    public KafkaBatchSource(Map<String, Object> kafka, String topic, SchemaRegistryClient registry, Range range) {
        Map<String, Object> props = new HashMap<>(kafka);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.deserializer = new AvroDeserializer<>(EmbeddingBatch.class, registry);
        this.topic = topic;
        List<PartitionInfo> infos = consumer.partitionsFor(topic, TIMEOUT);
        if (infos == null || infos.isEmpty()) {
            consumer.close();
            throw new ReplayException("kafka:" + topic, "no-topic", "topic " + topic + " does not exist", null);
        }
        List<TopicPartition> tps = new ArrayList<>();
        infos.forEach(i -> tps.add(new TopicPartition(topic, i.partition())));
        tps.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(tps, TIMEOUT);
        Map<TopicPartition, Long> end = consumer.endOffsets(tps, TIMEOUT);
        Map<TopicPartition, OffsetAndTimestamp> fromTime = range.fromTimestamp() == null ? Map.of()
                : consumer.offsetsForTimes(at(tps, range.fromTimestamp()), TIMEOUT);
        Map<TopicPartition, OffsetAndTimestamp> toTime = range.toTimestamp() == null ? Map.of()
                : consumer.offsetsForTimes(at(tps, range.toTimestamp()), TIMEOUT);
        for (TopicPartition tp : tps) {
            long from = begin.get(tp);
            if (range.fromOffset() != null) {
                from = Math.max(from, range.fromOffset());
            } else if (range.fromTimestamp() != null) {
                OffsetAndTimestamp o = fromTime.get(tp);
                from = o == null ? end.get(tp) : o.offset();
            }
            long to = end.get(tp);
            if (range.toOffset() != null) {
                to = Math.min(to, range.toOffset());
            } else if (range.toTimestamp() != null) {
                OffsetAndTimestamp o = toTime.get(tp);
                to = o == null ? to : o.offset();
            }
            if (from < to) {
                partitions.add(tp);
                bounds.put(tp, new long[] {from, to});
            }
        }
    }

    private static Map<TopicPartition, Long> at(List<TopicPartition> tps, long timestamp) {
        Map<TopicPartition, Long> m = new HashMap<>();
        tps.forEach(tp -> m.put(tp, timestamp));
        return m;
    }

    @Override
    public EmbeddingBatch next() {
        while (true) {
            ConsumerRecord<byte[], byte[]> r = buffered.poll();
            if (r != null) {
                long[] b = bounds.get(current);
                if (r.offset() >= b[1]) {
                    buffered.clear();
                    current = null;
                    continue;
                }
                position = "partition " + r.partition() + " offset " + r.offset();
                if (r.value() == null) {
                    throw new ReplayException(position, "malformed", "record without a value", null);
                }
                try {
                    return deserializer.deserialize(topic, r.headers(), r.value());
                } catch (RuntimeException e) {
                    throw new ReplayException(position, dev.hardmine.stream.DeadLetters.reasonOf(e, "deserialization"),
                            e.getMessage(), e);
                }
            }
            if (current == null) {
                current = partitions.poll();
                if (current == null) {
                    return null;
                }
                consumer.assign(List.of(current));
                consumer.seek(current, bounds.get(current)[0]);
            }
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (buffered.isEmpty()) {
                if (consumer.position(current) >= bounds.get(current)[1]) {
                    current = null;
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new ReplayException("partition " + current.partition(), "timeout",
                            "no records within " + TIMEOUT.toSeconds() + " s", null);
                }
                try {
                    consumer.poll(Duration.ofMillis(500)).records(current).forEach(buffered::add);
                } catch (RecordDeserializationException e) {
                    throw new ReplayException(position, "deserialization", e.getMessage(), e);
                }
            }
        }
    }

    @Override
    public String position() {
        return position;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
