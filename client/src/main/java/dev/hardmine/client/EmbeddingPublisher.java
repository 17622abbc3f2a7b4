package dev.hardmine.client;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.Sample;
import dev.hardmine.registry.AvroSerializer;
import dev.hardmine.registry.Utf8KeySerde;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.errors.InterruptException;

/**
 * Publishes the embeddings of a training worker's batches to hardmine: one call per training
 * batch, asynchronous, with a bound on the batches not yet acknowledged by Kafka.
 *
 * <p>Each call becomes one {@code EmbeddingBatch} record on the embeddings topic (default
 * {@code hardmine.embeddings}), key = job id, value in the Confluent wire format through the schema
 * registry, {@code produced_at} = now, {@code batch_id} unique among this publisher's batches:
 * {@code <worker>-<step>} for the first batch of a step, {@code <worker>-<step>.<n>} for any
 * later batch of a step already published (steps 5, 4, 5 give {@code w-5}, {@code w-4},
 * {@code w-5.1}), where {@code n} counts such repeats across the publisher from 1. The producer is idempotent with
 * {@code acks=all}, so a retried send neither loses nor duplicates a batch.
 *
 * <p><b>Backpressure.</b> At most {@code maxInFlightBatches} batches are sent but not yet
 * acknowledged; {@code publish} blocks the calling (training) thread until one of them is, so a
 * slow or unreachable broker slows training down instead of filling memory. The returned future
 * completes when Kafka acknowledges the batch, or exceptionally when it cannot.
 *
 * <p>{@linkplain dev.hardmine.client The package's documentation} shows a complete training loop
 * with a {@link MinedBatchSubscriber}.
 *
 * <p>Thread-safe: several threads may publish through one publisher.
 */
public final class EmbeddingPublisher implements AutoCloseable {
    /** Bound of {@link #close()}: the time left to deliver what is in flight. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaProducer<String, EmbeddingBatch> producer;
    private final ClientBuilder.Registry registry;
    private final String topic;
    private final String jobId;
    private final String workerId;
    private final String modelVersion;
    private final int maxInFlight;
    private final Semaphore inFlight;
    private final AtomicLong newestStep = new AtomicLong(-1);
    /**
     * The steps published so far, as runs of consecutive steps (first step → last step), so that
     * a training run's usual 0, 1, 2, … takes a single entry. Guarded by itself.
     */
    private final TreeMap<Long, Long> publishedSteps = new TreeMap<>();
    /** Batches published at a step already published; guarded by {@link #publishedSteps}. */
    private long repeats;
    private volatile boolean closed;

    private EmbeddingPublisher(Builder b) {
        this.topic = b.topic;
        this.jobId = ClientBuilder.requireText(b.jobId, "jobId");
        this.workerId = ClientBuilder.requireText(b.workerId, "workerId");
        this.modelVersion = b.modelVersion;
        this.maxInFlight = b.maxInFlightBatches;
        this.inFlight = new Semaphore(maxInFlight);
        Map<String, Object> props = b.kafkaProperties(Map.of(
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.CLIENT_ID_CONFIG, "hardmine-publisher-" + jobId + "-" + workerId));
        // Idempotence is what makes retries safe; a pass-through setting must not quietly turn it off.
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        this.registry = b.openRegistry();
        try {
            if (b.memoryNegatives > 0 || b.memoryPositives > 0 || b.neighborsPerIdentity > 0) {
                writeJobConfig(props, b);
            }
            this.producer = new KafkaProducer<>(props, new Utf8KeySerde().serializer(),
                    new AvroSerializer<>(registry.client(), b.serdeConfig(), false));
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
    }

    /**
     * Writes the job's JobConfig asking for memory samples and neighbours, and waits until Kafka
     * has it: the batches published after it get them (the service reads the jobs topic as a
     * global table, so the first few may still come without).
     */
    private void writeJobConfig(Map<String, Object> props, Builder b) {
        JobConfig config = JobConfig.newBuilder().setJobId(jobId)
                .setMemoryNegatives(b.memoryNegatives).setMemoryPositives(b.memoryPositives)
                .setNeighborsPerIdentity(b.neighborsPerIdentity > 0 ? b.neighborsPerIdentity : null)
                .setUpdatedAt(Instant.now()).build();
        try (KafkaProducer<String, JobConfig> jobs = new KafkaProducer<>(props, new Utf8KeySerde().serializer(),
                new AvroSerializer<>(registry.client(), b.serdeConfig(), false))) {
            jobs.send(new ProducerRecord<>(b.jobsTopic, jobId, config)).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing the JobConfig of " + jobId, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not write the JobConfig of " + jobId + " to " + b.jobsTopic, e);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Publishes one batch whose embeddings are the rows of {@code embeddings}.
     *
     * @param step       the training step at which the embeddings were computed (≥ 0)
     * @param sampleIds  dataset-wide ids, one per row, distinct: mined triplets name samples by them
     * @param labels     identities, one per row
     * @param embeddings {@code [batch][dim]}, every row of the same length, finite values
     * @return completes with where the batch landed once Kafka acknowledged it
     * @throws IllegalArgumentException when the batch is malformed (nothing is sent)
     * @throws IllegalStateException    after {@link #close()}
     * @throws InterruptException       when interrupted while waiting for an in-flight slot
     */
    public CompletableFuture<RecordMetadata> publish(long step, List<String> sampleIds, List<String> labels,
                                                     float[][] embeddings) {
        int dim = embeddings.length == 0 ? 0 : embeddings[0].length;
        List<ByteBuffer> encoded = new ArrayList<>(embeddings.length);
        for (int i = 0; i < embeddings.length; i++) {
            if (embeddings[i].length != dim) {
                throw new IllegalArgumentException("row " + i + " has " + embeddings[i].length + " values, row 0 has " + dim);
            }
            encoded.add(encode(FloatBuffer.wrap(embeddings[i]), 0, dim, sampleIds, i));
        }
        return send(step, sampleIds, labels, dim, encoded);
    }

    /**
     * Publishes one batch whose embeddings are the buffer's remaining values, row after row
     * ({@code rows × dim}, row-major, as a contiguous tensor's memory). The buffer's position does
     * not move.
     *
     * @see #publish(long, List, List, float[][])
     */
    public CompletableFuture<RecordMetadata> publish(long step, List<String> sampleIds, List<String> labels,
                                                     FloatBuffer embeddings, int dim) {
        if (dim < 1) {
            throw new IllegalArgumentException("dim must be >= 1, got " + dim);
        }
        int rows = sampleIds.size();
        if (embeddings.remaining() != (long) rows * dim) {
            throw new IllegalArgumentException("the buffer holds " + embeddings.remaining() + " values, expected "
                    + rows + " samples × dim " + dim);
        }
        List<ByteBuffer> encoded = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            encoded.add(encode(embeddings, embeddings.position() + i * dim, dim, sampleIds, i));
        }
        return send(step, sampleIds, labels, dim, encoded);
    }

    private static ByteBuffer encode(FloatBuffer source, int offset, int dim, List<String> ids, int row) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * dim).order(ByteOrder.LITTLE_ENDIAN);
        for (int j = 0; j < dim; j++) {
            float v = source.get(offset + j);
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("the embedding of " + (row < ids.size() ? ids.get(row) : "row " + row)
                        + " has a non-finite value (" + v + ") at index " + j);
            }
            bytes.putFloat(v);
        }
        return bytes.flip();
    }

    private CompletableFuture<RecordMetadata> send(long step, List<String> sampleIds, List<String> labels, int dim,
                                                   List<ByteBuffer> embeddings) {
        EmbeddingBatch batch = batch(step, sampleIds, labels, dim, embeddings);
        if (closed) {
            throw new IllegalStateException("the publisher is closed");
        }
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptException(e);
        }
        CompletableFuture<RecordMetadata> acknowledged = new CompletableFuture<>();
        try {
            producer.send(new ProducerRecord<>(topic, jobId, batch), (metadata, error) -> {
                inFlight.release();
                if (error != null) {
                    acknowledged.completeExceptionally(error);
                } else {
                    acknowledged.complete(metadata);
                }
            });
        } catch (RuntimeException e) {
            // send() failed before handing the record over (serialization, metadata, closed): no callback will come.
            inFlight.release();
            throw e;
        }
        newestStep.accumulateAndGet(step, Math::max);
        return acknowledged;
    }

    private EmbeddingBatch batch(long step, List<String> sampleIds, List<String> labels, int dim, List<ByteBuffer> embeddings) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        if (sampleIds.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one sample");
        }
        if (labels.size() != sampleIds.size() || embeddings.size() != sampleIds.size()) {
            throw new IllegalArgumentException(sampleIds.size() + " sample ids, " + labels.size() + " labels and "
                    + embeddings.size() + " embeddings: one of each per sample");
        }
        if (dim < 1) {
            throw new IllegalArgumentException("embeddings must have at least one value");
        }
        List<Sample> samples = new ArrayList<>(sampleIds.size());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < sampleIds.size(); i++) {
            String id = sampleIds.get(i);
            String label = labels.get(i);
            if (id == null || id.isEmpty() || label == null || label.isEmpty()) {
                throw new IllegalArgumentException("sample " + i + " has an empty id or label");
            }
            if (!seen.add(id)) {
                throw new IllegalArgumentException("sample id " + id + " appears twice in the batch");
            }
            samples.add(new Sample(id, label, embeddings.get(i)));
        }
        return EmbeddingBatch.newBuilder().setJobId(jobId).setWorkerId(workerId).setBatchId(batchId(step))
                .setStep(step).setModelVersion(modelVersion).setProducedAt(Instant.now()).setDim(dim)
                .setSamples(samples).build();
    }

    private String batchId(long step) {
        synchronized (publishedSteps) {
            Map.Entry<Long, Long> run = publishedSteps.floorEntry(step);
            if (run != null && run.getValue() >= step) {
                return workerId + "-" + step + "." + (++repeats);
            }
            // A new step: extend the run ending just below it, and join the run starting just above.
            long first = run != null && run.getValue() == step - 1 ? run.getKey() : step;
            Long nextLast = step == Long.MAX_VALUE ? null : publishedSteps.remove(step + 1);
            publishedSteps.put(first, nextLast != null ? nextLast : step);
            return workerId + "-" + step;
        }
    }

    /** Batches sent and not yet acknowledged (or failed); never more than {@link #maxInFlightBatches()}. */
    public int inFlight() {
        return maxInFlight - inFlight.availablePermits();
    }

    public int maxInFlightBatches() {
        return maxInFlight;
    }

    /** The newest step published so far, -1 before the first batch: the reference of staleness. */
    public long newestStep() {
        return newestStep.get();
    }

    public String jobId() {
        return jobId;
    }

    public String workerId() {
        return workerId;
    }

    public String topic() {
        return topic;
    }

    /** The Kafka producer's metrics ({@code buffer-available-bytes}, {@code record-send-rate}, …). */
    public Map<MetricName, ? extends Metric> metrics() {
        return producer.metrics();
    }

    /** Blocks until every batch published so far is acknowledged or has failed. */
    public void flush() {
        producer.flush();
    }

    /**
     * Delivers what is in flight (waiting at most {@link #CLOSE_TIMEOUT}; what is left then fails)
     * and releases the producer and, when the publisher created it, the registry client.
     */
    @Override
    public void close() {
        closed = true;
        try {
            producer.close(CLOSE_TIMEOUT);
        } finally {
            registry.close();
        }
    }

    /** Settings of an {@link EmbeddingPublisher}; job id, worker id, Kafka and the registry are required. */
    public static final class Builder extends ClientBuilder<Builder> {
        private String workerId;
        private String modelVersion = "";
        private int maxInFlightBatches = 8;
        private int memoryNegatives;
        private int memoryPositives;
        private int neighborsPerIdentity;
        private String jobsTopic = Topics.withPrefix("hardmine.").jobs();

        private Builder() {
            super(Topics.withPrefix("hardmine.").embeddings());
        }

        /** This worker (process, rank): mined batches come back keyed {@code <job>/<worker>}. */
        public Builder workerId(String workerId) {
            this.workerId = workerId;
            return this;
        }

        /** Free-form model or checkpoint version written into every batch; default empty. */
        public Builder modelVersion(String modelVersion) {
            this.modelVersion = modelVersion == null ? "" : modelVersion;
            return this;
        }

        /** Batches sent but not acknowledged before {@code publish} blocks; default 8. */
        public Builder maxInFlightBatches(int batches) {
            if (batches < 1) {
                throw new IllegalArgumentException("maxInFlightBatches must be >= 1, got " + batches);
            }
            this.maxInFlightBatches = batches;
            return this;
        }

        /**
         * Asks hardmine to send back, with each batch mined for this job, every anchor's
         * {@code negatives} nearest memory negatives and {@code positives} farthest memory positives
         * (read them with {@link MemorySampleCache}). Written at {@link #build()} as the job's
         * JobConfig on the jobs topic, which replaces any JobConfig the job had (the settings not
         * asked for here go back to the service's defaults). Default: nothing asked, no JobConfig
         * written.
         */
        public Builder memorySamples(int negatives, int positives) {
            if (negatives < 0 || positives < 0) {
                throw new IllegalArgumentException("memory samples per anchor must be >= 0, got "
                        + negatives + " negatives, " + positives + " positives");
            }
            this.memoryNegatives = negatives;
            this.memoryPositives = positives;
            return this;
        }

        /**
         * Asks hardmine to keep and publish, for each identity of the job, the {@code perIdentity}
         * identities most confusable with it (read them with {@link IdentityNeighborsSubscriber},
         * sample with {@link HardIdentitySampler}); written like {@link #memorySamples}.
         */
        public Builder neighbors(int perIdentity) {
            if (perIdentity < 0) {
                throw new IllegalArgumentException("neighbours per identity must be >= 0, got " + perIdentity);
            }
            this.neighborsPerIdentity = perIdentity;
            return this;
        }

        /** The jobs topic {@link #memorySamples} and {@link #neighbors} write to; hardmine's default name by default. */
        public Builder jobsTopic(String topic) {
            this.jobsTopic = ClientBuilder.requireText(topic, "jobsTopic");
            return this;
        }

        public EmbeddingPublisher build() {
            return new EmbeddingPublisher(this);
        }
    }
}
