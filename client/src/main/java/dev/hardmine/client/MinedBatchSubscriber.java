package dev.hardmine.client;

import dev.hardmine.avro.MinedBatch;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.Utf8KeySerde;
import dev.hardmine.retry.Backoff;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the batches hardmine mined for a training job, for a trainer to feed the mined samples
 * into its next batches.
 *
 * <p><b>Two modes.</b>
 * <ul>
 *   <li>{@link Builder#ownBatchesOf(String) Own batches}: what was mined from one worker's own
 *       input. Mined batches are keyed {@code <job>/<worker>}, so they all sit in the one partition
 *       Kafka's default partitioner (murmur2 of the key, modulo the partition count) gives that
 *       key; the subscriber assigns itself that partition, without a consumer group, and keeps the
 *       records with its key.</li>
 *   <li>{@link Builder#groupId(String) A share of the job's}: the subscriber joins a consumer group
 *       over the mined topic and keeps the records of its job, so the job's workers share all its
 *       mined batches between them (each batch reaches one member).</li>
 * </ul>
 * Either way it starts at the end of the topic (what is mined from now on) unless
 * {@link Builder#fromBeginning()}, and reads {@code read_committed}, as hardmine writes
 * exactly once.
 *
 * <p><b>Staleness.</b> A mined batch's {@code step} is the step of the batch it was mined from. With
 * {@link Builder#maxStalenessSteps(long, LongSupplier)} a batch is delivered only if
 * {@code currentStep − step ≤ maxStalenessSteps}, the current step being read when the batch is
 * delivered (for example {@link EmbeddingPublisher#newestStep()}, the newest step the worker has
 * published); older batches are dropped and counted ({@link #droppedStale()}). A current step
 * below the batch's step (nothing published yet, -1) drops nothing.
 *
 * <p><b>Two styles.</b> Pull: {@link #poll(Duration)} or {@link #iterator(Duration)} on the
 * caller's thread (one thread at a time). Push: {@link #start(Consumer)} runs the callback on a
 * thread of the subscriber's own. {@link #close()} stops either within {@link #CLOSE_TIMEOUT}.
 *
 * <p><b>Errors.</b> In pull style an error of the Kafka consumer is thrown to the caller of
 * {@code poll}. In push style the subscriber's thread logs it and goes on: a retriable one (a
 * fetch that failed, a leader that moved, any other {@link KafkaException}) is retried after a pause
 * growing from {@link #RETRY_BACKOFF_MIN} to {@link #RETRY_BACKOFF_MAX}; a fatal one (authentication
 * or authorization refused, an unknown topic name or group id, the consumer closed, an error that is
 * not Kafka's) ends delivery, and {@link #failure()} completes with it.
 *
 * <p>A record that cannot be decoded is skipped, logged and counted ({@link #undecodable()}).
 */
public final class MinedBatchSubscriber implements AutoCloseable {
    /** Bound of {@link #close()}. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);
    /** First pause of the callback thread after a retriable error; it doubles on each error in a row. */
    public static final Duration RETRY_BACKOFF_MIN = Duration.ofMillis(100);
    /** Longest pause of the callback thread between retries. */
    public static final Duration RETRY_BACKOFF_MAX = Duration.ofSeconds(5);
    private static final Backoff RETRY_BACKOFF = Backoff.doubling(RETRY_BACKOFF_MIN, RETRY_BACKOFF_MAX);
    private static final Logger LOG = LoggerFactory.getLogger(MinedBatchSubscriber.class);

    private final org.apache.kafka.clients.consumer.Consumer<String, MinedBatch> consumer;
    private final ClientBuilder.Registry registry;
    private final String jobId;
    /** {@code <job>/<worker>} in own mode, null in group mode. */
    private final String ownKey;
    private final MinedBatchFilter filter;
    /** Held while the consumer is in use: KafkaConsumer is single-threaded, close() comes from anywhere. */
    private final ReentrantLock consumerLock = new ReentrantLock();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong droppedStale = new AtomicLong();
    private final AtomicLong undecodable = new AtomicLong();
    private volatile boolean closing;
    private boolean consumerClosed;
    /** The push-style thread, null in pull style. */
    private volatile PushDelivery delivery;
    private final CompletableFuture<Throwable> failure = new CompletableFuture<>();

    private MinedBatchSubscriber(Builder b) {
        this.jobId = ClientBuilder.requireText(b.jobId, "jobId");
        if ((b.workerId == null) == (b.groupId == null)) {
            throw new IllegalStateException("choose one mode: ownBatchesOf(worker) or groupId(group)");
        }
        this.ownKey = b.workerId == null ? null : Topics.minedKey(jobId, b.workerId);
        this.filter = new MinedBatchFilter(jobId, ownKey, b.maxStalenessSteps, b.currentStep);
        Map<String, Object> props = b.kafkaProperties(Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, b.fromBeginning ? "earliest" : "latest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, b.groupId != null,
                ConsumerConfig.CLIENT_ID_CONFIG, "hardmine-mined-" + (ownKey != null ? ownKey : jobId + "@" + b.groupId)));
        if (b.groupId != null) {
            props.put(ConsumerConfig.GROUP_ID_CONFIG, b.groupId);
        }
        this.registry = b.openRegistry();
        try {
            this.consumer = b.consumer != null ? b.consumer : new KafkaConsumer<>(props, new Utf8KeySerde().deserializer(),
                    filter.skippingStale(new AvroDeserializer<>(MinedBatch.class, registry.client())));
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
        try {
            if (ownKey != null) {
                assignOwnPartition(b.topic, b.fromBeginning);
            } else {
                consumer.subscribe(List.of(b.topic));
            }
        } catch (RuntimeException e) {
            consumer.close(CloseOptions.timeout(CLOSE_TIMEOUT));
            registry.close();
            throw e;
        }
    }

    private void assignOwnPartition(String topic, boolean fromBeginning) {
        List<PartitionInfo> partitions = consumer.partitionsFor(topic, METADATA_TIMEOUT);
        if (partitions == null || partitions.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist (hardmine creates it when it starts)");
        }
        TopicPartition own = new TopicPartition(topic, partitionOf(ownKey, partitions.size()));
        consumer.assign(List.of(own));
        if (fromBeginning) {
            consumer.seekToBeginning(List.of(own));
        } else {
            consumer.seekToEnd(List.of(own));
        }
        // Resolve the position now, so that everything mined after the constructor returns is read.
        consumer.position(own, METADATA_TIMEOUT);
    }

    /** The partition Kafka's default partitioner gives {@code key} on a topic of {@code partitions} partitions. */
    public static int partitionOf(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Waits at most {@code timeout} for mined batches and returns those that arrived (possibly
     * none), in the order hardmine mined them, stale ones left out. Empty once closing.
     *
     * @throws IllegalStateException when {@link #start(Consumer)} runs the subscriber, or after close
     */
    public List<MinedBatch> poll(Duration timeout) {
        PushDelivery pushing = delivery;
        if (pushing != null && !pushing.isCurrentThread()) {
            throw new IllegalStateException("the subscriber runs a callback: poll() is not available");
        }
        consumerLock.lock();
        try {
            if (consumerClosed) {
                throw new IllegalStateException("the subscriber is closed");
            }
            if (closing) {
                return List.of();
            }
            List<MinedBatch> out = new ArrayList<>();
            for (ConsumerRecord<String, MinedBatch> r : pollRecords(timeout)) {
                switch (filter.verdict(r)) {
                    case DELIVER -> {
                        delivered.incrementAndGet();
                        out.add(r.value());
                    }
                    case STALE -> droppedStale.incrementAndGet();
                    case ELSEWHERE -> {
                    }
                }
            }
            return out;
        } finally {
            consumerLock.unlock();
        }
    }

    private Iterable<ConsumerRecord<String, MinedBatch>> pollRecords(Duration timeout) {
        try {
            return consumer.poll(timeout);
        } catch (WakeupException e) {
            return List.of();
        } catch (RecordDeserializationException e) {
            undecodable.incrementAndGet();
            LOG.warn("skipping an undecodable record at {} offset {}: {}", e.topicPartition(), e.offset(), e.getMessage());
            consumer.seek(e.topicPartition(), e.offset() + 1);
            return List.of();
        }
    }

    /**
     * The mined batches one after the other, until none arrives for {@code idleTimeout} or the
     * subscriber closes ({@code hasNext()} waits). For the caller's thread, like {@link #poll}.
     */
    public Iterator<MinedBatch> iterator(Duration idleTimeout) {
        return new Iterator<>() {
            private final ArrayDeque<MinedBatch> ready = new ArrayDeque<>();

            @Override
            public boolean hasNext() {
                long deadline = System.nanoTime() + idleTimeout.toNanos();
                while (ready.isEmpty() && !closing) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    ready.addAll(poll(Duration.ofNanos(left)));
                }
                return !ready.isEmpty();
            }

            @Override
            public MinedBatch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }
        };
    }

    /**
     * Runs {@code callback} for every mined batch on a thread of the subscriber's own until
     * {@link #close()} or a fatal error ({@link #failure()}). A {@link RuntimeException} from the
     * callback is logged and the next batch is delivered; an {@link Error} ends delivery like a fatal
     * error. No batch is delivered once {@code close()} has begun, and the callback may call
     * {@code close()} itself.
     */
    public synchronized void start(Consumer<MinedBatch> callback) {
        Objects.requireNonNull(callback, "callback");
        if (delivery != null || closing) {
            throw new IllegalStateException(closing ? "the subscriber is closed" : "the subscriber is already started");
        }
        PushDelivery pushing = new PushDelivery(jobId, this::poll, callback, RETRY_BACKOFF, failure);
        delivery = pushing;
        pushing.start();
    }

    /**
     * Completes when push-style delivery ({@link #start(Consumer)}) ends: with the fatal error that
     * ended it (see <i>Errors</i> above), or with {@code null} when it ended because of
     * {@link #close()}. Without {@code start} it completes with {@code null} on {@code close()}.
     * After a failure the subscriber still has to be closed.
     */
    public CompletionStage<Throwable> failure() {
        return failure.minimalCompletionStage();
    }

    /** Mined batches delivered so far (stale ones not counted). */
    public long delivered() {
        return delivered.get();
    }

    /** Mined batches of this worker or job dropped as older than {@code maxStalenessSteps}. */
    public long droppedStale() {
        return droppedStale.get();
    }

    /** Records skipped because they could not be decoded. */
    public long undecodable() {
        return undecodable.get();
    }

    /**
     * Stops the callback thread (if any) and closes the consumer (leaving the group in group mode),
     * within {@link #CLOSE_TIMEOUT} or so. A callback running at that moment finishes first, unless
     * it is the caller: from inside the callback, {@code close()} does not wait for its own thread.
     */
    @Override
    public void close() {
        PushDelivery pushing;
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            pushing = delivery;
        }
        long deadline = System.nanoTime() + CLOSE_TIMEOUT.toNanos();
        if (pushing != null) {
            pushing.stop();
        }
        // From the callback thread nothing is polling: there is nothing to wake, nor to wait for.
        boolean fromCallback = pushing != null && pushing.isCurrentThread();
        if (!fromCallback) {
            consumer.wakeup();
        }
        try {
            if (pushing != null && !fromCallback) {
                pushing.join(CLOSE_TIMEOUT.toMillis());
            }
            if (consumerLock.tryLock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                try {
                    consumerClosed = true;
                    consumer.close(CloseOptions.timeout(Duration.ofNanos(Math.max(0, deadline - System.nanoTime()))));
                } finally {
                    consumerLock.unlock();
                }
            } else {
                LOG.warn("the mined-batch consumer was still in use after {}; left to the garbage collector", CLOSE_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            registry.close();
            failure.complete(null);
        }
    }

    /** Settings of a {@link MinedBatchSubscriber}; job id, one mode, Kafka and the registry are required. */
    public static final class Builder extends ClientBuilder<Builder> {
        private String workerId;
        private String groupId;
        private boolean fromBeginning;
        private long maxStalenessSteps = -1;
        private LongSupplier currentStep = () -> -1;
        private org.apache.kafka.clients.consumer.Consumer<String, MinedBatch> consumer;

        private Builder() {
            super(Topics.withPrefix("hardmine.").mined());
        }

        /** Own mode: only the batches mined from this worker's input (key {@code <job>/<worker>}). */
        public Builder ownBatchesOf(String workerId) {
            this.workerId = ClientBuilder.requireText(workerId, "workerId");
            return this;
        }

        /** Group mode: a share of all the job's mined batches, among the members of this consumer group. */
        public Builder groupId(String groupId) {
            this.groupId = ClientBuilder.requireText(groupId, "groupId");
            return this;
        }

        /** Read what is already on the topic too (the group's committed offsets still win in group mode). */
        public Builder fromBeginning() {
            this.fromBeginning = true;
            return this;
        }

        /**
         * Drops mined batches whose source step is more than {@code steps} behind
         * {@code currentStep} (read when the batch would be delivered).
         */
        public Builder maxStalenessSteps(long steps, LongSupplier currentStep) {
            if (steps < 0) {
                throw new IllegalArgumentException("maxStalenessSteps must be >= 0, got " + steps);
            }
            this.maxStalenessSteps = steps;
            this.currentStep = Objects.requireNonNull(currentStep, "currentStep");
            return this;
        }

        /** {@link #maxStalenessSteps(long, LongSupplier)} relative to the newest step {@code publisher} has published. */
        public Builder maxStalenessSteps(long steps, EmbeddingPublisher publisher) {
            return maxStalenessSteps(steps, publisher::newestStep);
        }

        /**
         * For tests: the consumer to read with (a {@code MockConsumer} that fails on demand) instead of
         * one made from the settings. The subscriber closes it.
         */
        Builder consumer(org.apache.kafka.clients.consumer.Consumer<String, MinedBatch> consumer) {
            this.consumer = Objects.requireNonNull(consumer, "consumer");
            return this;
        }

        public MinedBatchSubscriber build() {
            return new MinedBatchSubscriber(this);
        }
    }
}
