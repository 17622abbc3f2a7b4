package dev.hardmine.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many records of a topic a consumer group has still to process, per partition: the latest
 * (committed-transaction) offset minus the group's committed offset, or minus the earliest offset
 * when the group has committed nothing for the partition. Computed with the Admin client on a
 * daemon thread of its own every {@code period}, not on the scrape (a scrape stays cheap and a slow
 * broker does not stall it); a failed round keeps the previous values and is logged.
 */
final class ConsumerLag implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerLag.class);
    private static final long CALL_TIMEOUT_MS = 10_000;

    private final MeterRegistry registry;
    private final Admin admin;
    private final String group;
    private final String topic;
    private final Map<TopicPartition, AtomicLong> lags = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private volatile String lastFailure;

    ConsumerLag(MeterRegistry registry, Map<String, Object> adminProperties, String group, String topic,
                Duration period) {
        this.registry = registry;
        this.admin = Admin.create(adminProperties);
        this.group = group;
        this.topic = topic;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "hardmine-consumer-lag");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::refreshQuietly, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void refreshQuietly() {
        try {
            refresh();
            if (lastFailure != null) {
                LOG.info("consumer lag of {} on {}: measured again", group, topic);
                lastFailure = null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            String message = String.valueOf(e.getCause() != null ? e.getCause() : e);
            if (!message.equals(lastFailure)) {
                LOG.warn("consumer lag of {} on {} not measured (kept the last values): {}", group, topic, message);
            }
            lastFailure = message;
        }
    }

    /** One round: reads the offsets and updates (or adds) each partition's gauge. */
    void refresh() throws InterruptedException, ExecutionException, TimeoutException {
        TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames()
                .get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS).get(topic);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (TopicPartitionInfo p : description.partitions()) {
            latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
        }
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        for (TopicPartition tp : latest.keySet()) {
            if (committed.get(tp) == null) {
                earliest.put(tp, OffsetSpec.earliest());
            }
        }
        ListOffsetsOptions readCommitted = new ListOffsetsOptions(IsolationLevel.READ_COMMITTED);
        Map<TopicPartition, ListOffsetsResultInfo> ends = admin.listOffsets(latest, readCommitted).all()
                .get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        Map<TopicPartition, ListOffsetsResultInfo> starts = earliest.isEmpty() ? Map.of()
                : admin.listOffsets(earliest, readCommitted).all().get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        for (TopicPartition tp : latest.keySet()) {
            OffsetAndMetadata c = committed.get(tp);
            long from = c != null ? c.offset() : starts.get(tp).offset();
            gauge(tp).set(Math.max(0, ends.get(tp).offset() - from));
        }
    }

    private AtomicLong gauge(TopicPartition tp) {
        return lags.computeIfAbsent(tp, p -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder(HardmineMetrics.CONSUMER_LAG, value, AtomicLong::get)
                    .tags("topic", p.topic(), "partition", Integer.toString(p.partition()))
                    .description("Records of the topic the application's consumer group has still to process")
                    .register(registry);
            return value;
        });
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        admin.close(Duration.ofSeconds(5));
    }
}
