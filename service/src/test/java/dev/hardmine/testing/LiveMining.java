package dev.hardmine.testing;

import static org.awaitility.Awaitility.await;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.registry.AvroSerde;
import dev.hardmine.registry.MockSchemaRegistry;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.stream.MinerService;
import dev.hardmine.stream.MiningObserver;
import dev.hardmine.stream.MiningTopology;
import dev.hardmine.stream.ServiceConfig;
import dev.hardmine.client.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;

/**
 * One test's slice of the shared broker: topics under a prefix of its own, the service's
 * properties for them, a producer of embedding batches (raw bytes too), read_committed readers of
 * the output topics, and the {@link MinerService}s the test starts — all closed together, services
 * first, so nothing outlives the test or retries against a stopped broker.
 *
 * <p>Every wait is bounded ({@link #TIMEOUT}); readers accumulate what they have read, so a test
 * asks for "the first n records" and then checks that nothing more arrives.
 */
public final class LiveMining implements AutoCloseable {
    /** Bound of every wait for output (start-up and exactly-once commits take about a second each). */
    public static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final EmbeddedKafkaBroker kafka;
    private final String registryUrl;
    private final Path root;
    private final String prefix = "it-" + UUID.randomUUID().toString().substring(0, 8) + ".";
    private final SchemaRegistryClient registry;
    private final AvroSerde<EmbeddingBatch> batches;
    private final AvroSerde<MinedBatch> mined;
    private final AvroSerde<MiningStats> stats;
    private final AvroSerde<IdentityNeighbors> neighbors;
    private final AvroSerde<JobConfig> jobs;
    private final KafkaProducer<String, byte[]> producer;
    private final Map<String, Reader> readers = new HashMap<>();
    private final Deque<AutoCloseable> services = new ArrayDeque<>();
    private int stateDirs;

    /**
     * @param registryUrl {@code http://…} of a running registry or {@code mock://NAME}
     * @param root        a directory of the test's own (state directories go under it)
     */
    public LiveMining(EmbeddedKafkaBroker kafka, String registryUrl, Path root) {
        this.kafka = kafka;
        this.registryUrl = registryUrl;
        this.root = root;
        SerdeConfig serdeConfig = SerdeConfig.of(registryUrl);
        this.registry = SchemaRegistryClient.create(serdeConfig.client());
        this.batches = new AvroSerde<>(EmbeddingBatch.class, registry, serdeConfig, false);
        this.mined = new AvroSerde<>(MinedBatch.class, registry, serdeConfig, false);
        this.stats = new AvroSerde<>(MiningStats.class, registry, serdeConfig, false);
        this.neighbors = new AvroSerde<>(IdentityNeighbors.class, registry, serdeConfig, false);
        this.jobs = new AvroSerde<>(JobConfig.class, registry, serdeConfig, false);
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000),
                new StringSerializer(), new ByteArraySerializer());
    }

    /** A fixture with a registry of its own, a {@code mock://} scope dropped when the fixture closes. */
    public static LiveMining withMockRegistry(EmbeddedKafkaBroker kafka, Path root) {
        String scope = "live-" + UUID.randomUUID();
        LiveMining live = new LiveMining(kafka, "mock://" + scope, root);
        live.closeLater(() -> MockSchemaRegistry.dropScope(scope)); // first in, so closed last
        return live;
    }

    public String prefix() {
        return prefix;
    }

    public Topics topics() {
        return Topics.withPrefix(prefix);
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public String registryUrl() {
        return registryUrl;
    }

    /** A new, empty directory for a Kafka Streams instance. */
    public Path newStateDir() {
        try {
            return Files.createDirectories(root.resolve("state-" + (++stateDirs)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The service's properties for this test's topics: application id {@code PREFIXapp}, two
     * partitions, exactly-once (the default), one stream thread, 100 ms commits, a new state
     * directory; then the given key/value overrides.
     */
    public Properties properties(String... keyValues) {
        return properties(prefix, kafka.bootstrapServers(), registryUrl, newStateDir(), keyValues);
    }

    /** As {@link #properties(String...)}, for a service of topics {@code prefix} on any broker and registry. */
    public static Properties properties(String prefix, String bootstrapServers, String registryUrl, Path stateDir,
                                        String... keyValues) {
        Properties p = new Properties();
        p.setProperty("application.id", prefix + "app");
        p.setProperty("bootstrap.servers", bootstrapServers);
        p.setProperty("schema.registry.url", registryUrl);
        p.setProperty("topics.prefix", prefix);
        p.setProperty("topics.partitions", "2");
        p.setProperty("stats.window", "1h");
        p.setProperty("kafka.commit.interval.ms", "100");
        p.setProperty("kafka.num.stream.threads", "1");
        p.setProperty("kafka.state.dir", stateDir.toString());
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return p;
    }

    /** Starts a service (closed with this fixture unless closed before) and waits until it runs. */
    public MinerService start(Properties properties) {
        return start(properties, MiningObserver.NONE);
    }

    /** Starts a service whose mined batches and dead letters are told to {@code observer}. */
    public MinerService start(Properties properties, MiningObserver observer) {
        MinerService service = new MinerService(ServiceConfig.fromProperties(properties), observer);
        services.push(service);
        service.start();
        try {
            if (!service.awaitRunning(TIMEOUT)) {
                throw new IllegalStateException("Kafka Streams did not reach RUNNING within " + TIMEOUT
                        + " (state " + service.streams().state() + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return service;
    }

    /** Has this fixture close something (a child process, a registry) before the broker goes. */
    public void closeLater(AutoCloseable resource) {
        services.push(resource);
    }

    public byte[] serialize(EmbeddingBatch batch) {
        return batches.serializer().serialize(topics().embeddings(), batch);
    }

    /** Publishes a batch the way a trainer does: key job_id; returns where it landed. */
    public RecordMetadata send(EmbeddingBatch batch) {
        return sendRaw(batch.getJobId(), serialize(batch));
    }

    public byte[] serialize(JobConfig settings) {
        return jobs.serializer().serialize(topics().jobs(), settings);
    }

    /** Publishes a job's settings the way a launcher does: key job_id, on the jobs topic. */
    public RecordMetadata send(JobConfig settings) {
        return sendRaw(topics().jobs(), settings.getJobId(), serialize(settings));
    }

    /** The JobConfig of {@code job} in {@code service}'s jobs table (the global store); null if none. */
    public static JobConfig jobConfig(MinerService service, String job) {
        return service.streams().store(StoreQueryParameters.fromNameAndType(MiningTopology.JOB_CONFIG_STORE,
                QueryableStoreTypes.<String, JobConfig>keyValueStore())).get(job);
    }

    /** Publishes bytes as they are to the embeddings topic. */
    public RecordMetadata sendRaw(String key, byte[] value) {
        return sendRaw(topics().embeddings(), key, value);
    }

    /** Publishes bytes as they are to {@code topic} (the jobs topic, say). */
    public RecordMetadata sendRaw(String topic, String key, byte[] value) {
        try {
            return producer.send(new ProducerRecord<>(topic, key, value)).get(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not publish to " + topic, e);
        }
    }

    /** The partition Kafka's default partitioner gives a key on a topic of {@code partitions} partitions. */
    public static int partitionOf(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /** Waits for at least {@code n} committed MinedBatch records; returns all read so far, per partition in order. */
    public List<ConsumerRecord<String, MinedBatch>> awaitMined(int n) {
        return decoded(reader(topics().mined()).awaitAtLeast(n), mined);
    }

    /** Waits for at least {@code n} committed MiningStats records; returns all read so far. */
    public List<ConsumerRecord<String, MiningStats>> awaitStats(int n) {
        return decoded(reader(topics().stats()).awaitAtLeast(n), stats);
    }

    /** Waits for at least {@code n} committed IdentityNeighbors records; returns all read so far. */
    public List<ConsumerRecord<String, IdentityNeighbors>> awaitNeighbors(int n) {
        return decoded(reader(topics().neighbors()).awaitAtLeast(n), neighbors);
    }

    /** Waits for at least {@code n} committed dead letters; returns all read so far, raw. */
    public List<ConsumerRecord<byte[], byte[]>> awaitDeadLetters(int n) {
        return reader(topics().dlq()).awaitAtLeast(n);
    }

    /** Reads {@code topic} for {@code quietPeriod} more and returns how many records arrived meanwhile. */
    public int countMoreWithin(String topic, Duration quietPeriod) {
        return reader(topic).readFor(quietPeriod);
    }

    /** The MinedBatch values of records, in the order given. */
    public static List<MinedBatch> values(List<ConsumerRecord<String, MinedBatch>> records) {
        return records.stream().map(ConsumerRecord::value).toList();
    }

    private <T> List<ConsumerRecord<String, T>> decoded(List<ConsumerRecord<byte[], byte[]>> raw,
                                                        AvroSerde<? extends T> serde) {
        List<ConsumerRecord<String, T>> out = new ArrayList<>(raw.size());
        for (ConsumerRecord<byte[], byte[]> r : raw) {
            T value = serde.deserializer().deserialize(r.topic(), r.value());
            out.add(new ConsumerRecord<>(r.topic(), r.partition(), r.offset(),
                    r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8), value));
        }
        return out;
    }

    private Reader reader(String topic) {
        return readers.computeIfAbsent(topic, Reader::new);
    }

    /** Closes the services (newest first), the readers, the producer; the broker stays. */
    @Override
    public void close() {
        RuntimeException failure = null;
        while (!services.isEmpty()) {
            try {
                services.pop().close();
            } catch (Exception e) {
                failure = failure == null ? new IllegalStateException("closing the test's services", e) : failure;
            }
        }
        readers.values().forEach(Reader::close);
        producer.close(Duration.ofSeconds(5));
        registry.close();
        if (failure != null) {
            throw failure;
        }
    }

    /** All partitions of one topic from the beginning, read_committed, accumulated. */
    private final class Reader implements AutoCloseable {
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final List<ConsumerRecord<byte[], byte[]>> read = new ArrayList<>();

        Reader(String topic) {
            consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(20)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            if (partitions.isEmpty()) {
                throw new IllegalStateException("topic " + topic + " does not exist");
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }

        List<ConsumerRecord<byte[], byte[]>> awaitAtLeast(int n) {
            await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(20)).until(() -> {
                consumer.poll(Duration.ofMillis(100)).forEach(read::add);
                return read.size() >= n;
            });
            return List.copyOf(read);
        }

        int readFor(Duration period) {
            int before = read.size();
            long end = System.nanoTime() + period.toNanos();
            while (System.nanoTime() < end) {
                consumer.poll(Duration.ofMillis(100)).forEach(read::add);
            }
            return read.size() - before;
        }

        @Override
        public void close() {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(2)));
        }
    }
}
