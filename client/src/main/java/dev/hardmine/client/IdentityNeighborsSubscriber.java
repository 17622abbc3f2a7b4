package dev.hardmine.client;

import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.Utf8KeySerde;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * One job's hard-identity neighbours as hardmine publishes them (the compacted
 * {@code <prefix>neighbors} topic, key {@code job_id/label}): every partition from the beginning,
 * then each update as it comes, the other jobs' records skipped. Feed them to a
 * {@link HardIdentitySampler}. The job asks for neighbours with {@code neighbors.per-identity}
 * (a service setting, or the job's JobConfig).
 *
 * <p>Not thread-safe: one reader thread.
 */
public final class IdentityNeighborsSubscriber implements AutoCloseable {
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaConsumer<String, IdentityNeighbors> consumer;
    private final ClientBuilder.Registry registry;
    private final String jobId;

    private IdentityNeighborsSubscriber(Builder b) {
        this.jobId = ClientBuilder.requireText(b.jobId, "jobId");
        Map<String, Object> props = b.kafkaProperties(Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.CLIENT_ID_CONFIG, "hardmine-neighbors-" + jobId));
        this.registry = b.openRegistry();
        try {
            this.consumer = new KafkaConsumer<>(props, new Utf8KeySerde().deserializer(),
                    new AvroDeserializer<>(IdentityNeighbors.class, registry.client()));
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
        try {
            List<PartitionInfo> partitions = consumer.partitionsFor(b.topic, METADATA_TIMEOUT);
            if (partitions == null || partitions.isEmpty()) {
                throw new IllegalStateException("topic " + b.topic + " does not exist (hardmine creates it when it starts)");
            }
            List<TopicPartition> all = partitions.stream().map(p -> new TopicPartition(b.topic, p.partition())).toList();
            consumer.assign(all);
            consumer.seekToBeginning(all);
        } catch (RuntimeException e) {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(10)));
            registry.close();
            throw e;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Waits at most {@code timeout} and returns the job's records that arrived, in topic order per partition. */
    public List<IdentityNeighbors> poll(Duration timeout) {
        List<IdentityNeighbors> out = new ArrayList<>();
        String prefix = jobId + "/";
        for (ConsumerRecord<String, IdentityNeighbors> r : consumer.poll(timeout)) {
            // The key's prefix is a quick filter; the value says whose record it is.
            if (r.key() != null && r.key().startsWith(prefix) && r.value() != null
                    && r.value().getJobId().equals(jobId)) {
                out.add(r.value());
            }
        }
        return out;
    }

    @Override
    public void close() {
        try {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(10)));
        } finally {
            registry.close();
        }
    }

    /** Settings of an {@link IdentityNeighborsSubscriber}; job id, Kafka and the registry are required. */
    public static final class Builder extends ClientBuilder<Builder> {
        private Builder() {
            super(Topics.withPrefix("hardmine.").neighbors());
        }

        public IdentityNeighborsSubscriber build() {
            return new IdentityNeighborsSubscriber(this);
        }
    }
}
