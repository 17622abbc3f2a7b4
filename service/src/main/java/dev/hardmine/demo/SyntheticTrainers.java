package dev.hardmine.demo;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.Sample;
import dev.hardmine.avro.Triplet;
import dev.hardmine.mining.Embeddings;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.AvroSerializer;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.client.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training workers that behave like a distributed metric-learning run and close hardmine's loop:
 * each samples P identities × K images per batch from a {@link SyntheticModel}, publishes the
 * batch's embeddings in the Confluent wire format, reads the batches mined from its own input
 * (its own partition of the mined topic), and puts the mined hard negatives and farthest
 * positives into its next batches — the samples it is "fed".
 */
public final class SyntheticTrainers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SyntheticTrainers.class);

    /**
     * @param jobId             the training job the workers belong to
     * @param workers           training workers (threads)
     * @param identitiesPerBatch P of P×K sampling
     * @param imagesPerIdentity K of P×K sampling
     * @param maxFed            at most this many fed samples per batch, on top of P×K
     * @param interval          time between two batches of one worker, at the least
     * @param maxInFlight       a worker publishes its next batch only while fewer of its batches
     *                          than this await their mined result, as a trainer that uses them
     *                          must: trainers never publish faster than the miner mines
     */
    public record Settings(String jobId, int workers, int identitiesPerBatch, int imagesPerIdentity, int maxFed,
                           Duration interval, long seed, int maxInFlight) {
        public static final int DEFAULT_MAX_IN_FLIGHT = 4;

        public Settings {
            if (workers < 1 || identitiesPerBatch < 2 || imagesPerIdentity < 2 || maxFed < 0 || maxInFlight < 1) {
                throw new IllegalArgumentException("need >= 1 worker, P >= 2, K >= 2, maxFed >= 0, maxInFlight >= 1");
            }
        }

        public Settings(String jobId, int workers, int identitiesPerBatch, int imagesPerIdentity, int maxFed,
                        Duration interval, long seed) {
            this(jobId, workers, identitiesPerBatch, imagesPerIdentity, maxFed, interval, seed, DEFAULT_MAX_IN_FLIGHT);
        }
    }

    /** A batch whose result has not come back after this long is given up on (e.g. dead-lettered). */
    static final Duration GIVE_UP_AFTER = Duration.ofSeconds(10);

    private final SyntheticModel model;
    private final Settings settings;
    private final Topics topics;
    private final String bootstrapServers;
    private final SchemaRegistryClient registry;
    private final SerdeConfig serdeConfig;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong minedReceived = new AtomicLong();
    private final AtomicLong fedSamples = new AtomicLong();

    public SyntheticTrainers(SyntheticModel model, Settings settings, Topics topics, String bootstrapServers,
                             SchemaRegistryClient registry, SerdeConfig serdeConfig) {
        this.model = model;
        this.settings = settings;
        this.topics = topics;
        this.bootstrapServers = bootstrapServers;
        this.registry = registry;
        this.serdeConfig = serdeConfig;
    }

    /** Starts the workers, each on a thread of its own. */
    public void start() {
        for (int w = 0; w < settings.workers(); w++) {
            Worker worker = new Worker("worker-" + w, settings.seed() * 31 + w);
            Thread t = new Thread(worker, "synthetic-" + worker.id);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    public String jobId() {
        return settings.jobId();
    }

    /** Batches published so far, by all workers. */
    public long published() {
        return published.get();
    }

    /** Mined batches the workers received for their own input. */
    public long minedReceived() {
        return minedReceived.get();
    }

    /** Samples the workers put into their batches because hardmine mined them. */
    public long fedSamples() {
        return fedSamples.get();
    }

    private final class Worker implements Runnable {
        final String id;
        final SplittableRandom random;
        final ArrayDeque<String> toFeed = new ArrayDeque<>();
        /** When each batch still awaiting its mined result was published, oldest first (nanoTime). */
        final ArrayDeque<Long> awaiting = new ArrayDeque<>();

        Worker(String id, long seed) {
            this.id = id;
            this.random = new SplittableRandom(seed);
        }

        @Override
        public void run() {
            String key = Topics.minedKey(settings.jobId(), id);
            try (KafkaProducer<String, EmbeddingBatch> producer = new KafkaProducer<>(producerProps(),
                    new StringSerializer(), new AvroSerializer<>(registry, serdeConfig, false));
                 KafkaConsumer<String, MinedBatch> consumer = new KafkaConsumer<>(consumerProps(),
                    new StringDeserializer(), new AvroDeserializer<>(MinedBatch.class, registry))) {
                int partitions = consumer.partitionsFor(topics.mined(), Duration.ofSeconds(30)).size();
                int partition = Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
                TopicPartition own = new TopicPartition(topics.mined(), partition);
                consumer.assign(List.of(own));
                consumer.seekToEnd(List.of(own));
                consumer.position(own);
                long step = 0;
                while (running.get()) {
                    long next = System.nanoTime() + settings.interval().toNanos();
                    while (running.get() && awaiting.size() >= settings.maxInFlight()) {
                        if (System.nanoTime() - awaiting.peekFirst() > GIVE_UP_AFTER.toNanos()) {
                            awaiting.pollFirst();
                        } else {
                            receive(consumer, key, Duration.ofMillis(50));
                        }
                    }
                    EmbeddingBatch batch = nextBatch(step++);
                    producer.send(new ProducerRecord<>(topics.embeddings(), settings.jobId(), batch));
                    awaiting.addLast(System.nanoTime());
                    published.incrementAndGet();
                    long waitMs;
                    while (running.get() && (waitMs = (next - System.nanoTime()) / 1_000_000) > 0) {
                        receive(consumer, key, Duration.ofMillis(Math.min(waitMs, 100)));
                    }
                }
            } catch (RuntimeException e) {
                if (running.get()) {
                    LOG.error("synthetic trainer {} stopped", id, e);
                }
            }
        }

        private void receive(KafkaConsumer<String, MinedBatch> consumer, String key, Duration timeout) {
            for (ConsumerRecord<String, MinedBatch> r : consumer.poll(timeout)) {
                if (key.equals(r.key())) {
                    minedReceived.incrementAndGet();
                    awaiting.pollFirst();
                    feedFrom(r.value());
                }
            }
        }

        /** The mined negatives (hard ones first in the triplet order) and positives become next batches' samples. */
        private void feedFrom(MinedBatch mined) {
            for (Triplet t : mined.getTriplets()) {
                if (toFeed.size() >= 4 * settings.maxFed()) {
                    break;
                }
                toFeed.add(t.getNegativeId());
                toFeed.add(t.getPositiveId());
            }
        }

        private EmbeddingBatch nextBatch(long step) {
            Set<String> ids = new LinkedHashSet<>();
            Map<String, int[]> images = new HashMap<>();
            Set<Integer> chosen = new LinkedHashSet<>();
            while (chosen.size() < settings.identitiesPerBatch()) {
                chosen.add(random.nextInt(model.identities()));
            }
            for (int identity : chosen) {
                Set<Integer> imgs = new LinkedHashSet<>();
                while (imgs.size() < Math.min(settings.imagesPerIdentity(), model.imagesPerIdentity())) {
                    imgs.add(random.nextInt(model.imagesPerIdentity()));
                }
                for (int img : imgs) {
                    String sid = SyntheticModel.sampleId(identity, img);
                    ids.add(sid);
                    images.put(sid, new int[] {identity, img});
                }
            }
            int fed = 0;
            while (fed < settings.maxFed() && !toFeed.isEmpty()) {
                String sid = toFeed.poll();
                int[] parsed = SyntheticModel.parse(sid);
                if (parsed != null && ids.add(sid)) {
                    images.put(sid, parsed);
                    fed++;
                }
            }
            fedSamples.addAndGet(fed);
            List<Sample> samples = new ArrayList<>(ids.size());
            float[] e = new float[model.dim()];
            for (String sid : ids) {
                int[] img = images.get(sid);
                model.embed(img[0], img[1], step, e, 0);
                samples.add(new Sample(sid, SyntheticModel.label(img[0]), Embeddings.encodeLittleEndian(e, 0, e.length)));
            }
            return EmbeddingBatch.newBuilder().setJobId(settings.jobId()).setWorkerId(id)
                    .setBatchId(id + "-" + step).setStep(step).setModelVersion("synthetic")
                    .setProducedAt(Instant.now()).setDim(model.dim()).setSamples(samples).build();
        }
    }

    private Map<String, Object> producerProps() {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return p;
    }

    private Map<String, Object> consumerProps() {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return p;
    }

    /** Stops the workers and waits for them (bounded). */
    @Override
    public void close() {
        running.set(false);
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
