package dev.hardmine.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.MinedBatch;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a mined topic from its beginning twice over: {@code read_committed}, as trainers do, keeping
 * every MinedBatch by {@link ExactlyOnce#key}, and {@code read_uncommitted}, to count what aborted
 * transactions wrote. It assigns the topic's partitions once the service has created it.
 */
public final class MinedTopicReader implements AutoCloseable {
    private final String topic;
    private final KafkaConsumer<String, MinedBatch> committed;
    private final KafkaConsumer<String, byte[]> uncommitted;
    private final Map<String, List<MinedBatch>> byBatch = new HashMap<>();
    private int records;
    private long uncommittedRecords;

    public MinedTopicReader(String bootstrapServers, String registryUrl, String topic) {
        this.topic = topic;
        SchemaRegistryClient client = SchemaRegistryClient.create(SerdeConfig.of(registryUrl).client());
        this.committed = new KafkaConsumer<>(config(bootstrapServers, "read_committed"), new StringDeserializer(),
                new AvroDeserializer<>(MinedBatch.class, client));
        this.uncommitted = new KafkaConsumer<>(config(bootstrapServers, "read_uncommitted"), new StringDeserializer(),
                new ByteArrayDeserializer());
    }

    private static Map<String, Object> config(String bootstrapServers, String isolation) {
        return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2_000);
    }

    private boolean assigned() {
        if (!committed.assignment().isEmpty()) {
            return true;
        }
        List<TopicPartition> partitions = committed.listTopics(Duration.ofSeconds(10)).getOrDefault(topic, List.of())
                .stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        if (partitions.isEmpty()) {
            return false;
        }
        committed.assign(partitions);
        committed.seekToBeginning(partitions);
        uncommitted.assign(partitions);
        uncommitted.seekToBeginning(partitions);
        return true;
    }

    /** Reads what is there now; returns the number of committed records read so far. */
    public int poll() throws InterruptedException {
        if (!assigned()) {
            Thread.sleep(200);
            return records;
        }
        for (ConsumerRecord<String, MinedBatch> r : committed.poll(Duration.ofMillis(200))) {
            byBatch.computeIfAbsent(ExactlyOnce.key(r.value()), k -> new ArrayList<>()).add(r.value());
            records++;
        }
        uncommittedRecords += uncommitted.poll(Duration.ZERO).count();
        return records;
    }

    /**
     * Reads until at least {@code count} committed records are in, failing after {@code timeout} or
     * as soon as {@code run} has exited.
     */
    public void awaitAtLeast(int count, Duration timeout, RunProcess run) throws Exception {
        awaitAtLeast(count, timeout, run, run::output);
    }

    /** What a failed wait says beside the count: the state of the service, as the test sees it. */
    @FunctionalInterface
    public interface Diagnosis {
        String describe() throws Exception;
    }

    /** As {@link #awaitAtLeast(int, Duration, RunProcess)}, a failure saying {@code diagnosis}. */
    public void awaitAtLeast(int count, Duration timeout, RunProcess run, Diagnosis diagnosis) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (poll() < count) {
            assertThat(run.process().isAlive()).as("hardmine run exited:%n%s", run.output()).isTrue();
            if (System.nanoTime() >= deadline) {
                throw new AssertionError(String.format("%d committed records within %s (have %d; %s):%n%s",
                        count, timeout, records, positions(), diagnosis.describe()));
            }
        }
    }

    /**
     * Each partition's read_committed position against its high watermark (the end a
     * read_uncommitted consumer sees): a position that stays short of it while nothing more
     * arrives is an open transaction holding the reader back.
     */
    public String positions() {
        Map<TopicPartition, Long> ends = uncommitted.endOffsets(committed.assignment(), Duration.ofSeconds(10));
        StringBuilder out = new StringBuilder("position/end offset by partition:");
        ends.entrySet().stream().sorted(Map.Entry.comparingByKey(Comparator.comparingInt(TopicPartition::partition)))
                .forEach(e -> out.append(' ').append(e.getKey().partition()).append('=')
                        .append(committed.position(e.getKey())).append('/').append(e.getValue()));
        return out.toString();
    }

    /** Reads for {@code period}, then whatever is left of aborted transactions. */
    public void readFor(Duration period) throws InterruptedException {
        long deadline = System.nanoTime() + period.toNanos();
        while (System.nanoTime() < deadline) {
            poll();
        }
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        int more;
        do {
            more = uncommitted.poll(Duration.ofMillis(500)).count();
            uncommittedRecords += more;
        } while (more > 0 && System.nanoTime() < end);
    }

    /** Every committed MinedBatch read, by {@link ExactlyOnce#key}. */
    public Map<String, List<MinedBatch>> byBatch() {
        return byBatch;
    }

    /** Records read under {@code read_uncommitted}: the committed ones and those of aborted transactions. */
    public long uncommittedCount() {
        return uncommittedRecords;
    }

    @Override
    public void close() {
        committed.close();
        uncommitted.close();
    }
}
