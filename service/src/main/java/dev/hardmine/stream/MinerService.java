package dev.hardmine.stream;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.registry.AvroSerde;
import dev.hardmine.registry.SchemaFetcher;
import dev.hardmine.registry.SchemaRegistryException;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.retry.Backoff;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the mining topology against a Kafka cluster and a schema registry: creates or checks the
 * topics, starts Kafka Streams, and stops it in order. The app (the topology) is built by
 * {@link MiningTopology}; this class only runs it.
 */
public final class MinerService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MinerService.class);

    /** Between two attempts to register the output schemas at start. */
    static final Backoff REGISTRY_BACKOFF = SchemaFetcher.DEFAULT_BACKOFF;

    private final ServiceConfig config;
    private final DeadLetters.Counter deadLetters;
    private final SchemaRegistryClient registry;
    private final SchemaFetcher schemas;
    private final DeadLetters.GlobalLetters globalLetters;
    /** Every topic the topology writes Avro to, with its serde. */
    private final Map<String, AvroSerde<?>> outputs;
    private final Supplier<Topology> topology;
    /** Kafka Streams' state directory for this application ({@code state.dir}/{@code application.id}). */
    private final Path applicationDirectory;
    private volatile KafkaStreams streams;
    private final CountDownLatch running = new CountDownLatch(1);
    private final CompletableFuture<Throwable> failure = new CompletableFuture<>();
    private volatile Throwable uncaught;
    /** While Kafka Streams' start runs: it holds the lock its close needs until the jobs table is restored. */
    private volatile boolean starting;

    public MinerService(ServiceConfig config) {
        this(config, MiningObserver.NONE);
    }

    /** A service whose mined batches and dead letters are also told to {@code observer} (metrics). */
    public MinerService(ServiceConfig config, MiningObserver observer) {
        this.config = config;
        this.deadLetters = new DeadLetters.Counter(observer);
        SerdeConfig serdeConfig = SerdeConfig.fromMap(serdeSettings(config));
        this.registry = SchemaRegistryClient.create(serdeConfig.client());
        this.schemas = new SchemaFetcher(registry);
        this.globalLetters = new DeadLetters.GlobalLetters(adminProperties(config));
        AvroSerde<EmbeddingBatch> batches = new AvroSerde<>(EmbeddingBatch.class, registry, serdeConfig, false);
        AvroSerde<MinedBatch> mined = new AvroSerde<>(MinedBatch.class, registry, serdeConfig, false);
        AvroSerde<MiningStats> stats = new AvroSerde<>(MiningStats.class, registry, serdeConfig, false);
        AvroSerde<JobConfig> jobs = new AvroSerde<>(JobConfig.class, registry, serdeConfig, false);
        AvroSerde<IdentityNeighbors> neighbors = new AvroSerde<>(IdentityNeighbors.class, registry, serdeConfig, false);
        this.outputs = new LinkedHashMap<>();
        outputs.put(config.topics().mined(), mined);
        outputs.put(config.topics().stats(), stats);
        outputs.put(config.topics().neighbors(), neighbors);
        outputs.put(config.topics().jobs(), jobs); // the global store writes what it reads
        outputs.put(config.applicationId() + "-by-job-repartition", mined);
        if (config.shardsPerJob() > 1) {
            outputs.put(config.applicationId() + "-shards-repartition", batches);
        }
        MiningTopology.RecordSerdes serdes = new MiningTopology.RecordSerdes(batches, mined, stats, jobs, neighbors,
                schemas);
        this.topology = () -> MiningTopology.build(config, serdes, observer);
        this.applicationDirectory = LeftoverStoreDirectories.applicationDirectory(streamsProperties(config, deadLetters));
        this.streams = newStreams();
    }

    private KafkaStreams newStreams() {
        Properties properties = streamsProperties(config, deadLetters);
        properties.put(DeadLetters.GLOBAL_LETTERS_CONFIG, globalLetters);
        KafkaStreams created = new KafkaStreams(topology.get(), properties);
        created.setStateListener((now, before) -> {
            LOG.info("kafka streams: {} -> {}", before, now);
            if (now == KafkaStreams.State.RUNNING) {
                running.countDown();
            }
            if (now == KafkaStreams.State.ERROR) {
                failure.complete(uncaught != null ? uncaught
                        : new IllegalStateException("Kafka Streams stopped in state ERROR"));
            }
        });
        created.setUncaughtExceptionHandler(e -> {
            if (causedBy(e, AwaitingSchema.Stopped.class)) {
                // Only while Kafka Streams stops: a JobConfig left unread for the next start, not a failure.
                LOG.info("the jobs table stopped with a JobConfig waiting for the schema registry; "
                        + "it is read again at the next start");
            } else {
                uncaught = e;
            }
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        return created;
    }

    /** The registry settings: {@code schema.registry.url} and every Kafka passthrough key (auth and TLS). */
    public static Map<String, Object> serdeSettings(ServiceConfig config) {
        Map<String, Object> m = new HashMap<>(config.kafka());
        m.put(SerdeConfig.SCHEMA_REGISTRY_URL, config.schemaRegistryUrl());
        return m;
    }

    /** Settings of an Admin client for the service's cluster: bootstrap servers and every Kafka passthrough key. */
    public static Map<String, Object> adminProperties(ServiceConfig config) {
        Map<String, Object> adminProps = new HashMap<>(config.kafka());
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        return adminProps;
    }

    /**
     * Segment size of the topics Kafka Streams creates (changelogs, repartition topics) unless
     * {@code kafka.topic.segment.bytes} says otherwise: 64 MiB. The memory store's changelog takes
     * about 5 MB/s at 10 000 embeddings/s, nearly all of it replaced or deleted later; the log
     * cleaner compacts a segment once it is closed, and with the broker's default of 1 GiB it
     * compacted a whole gigabyte every 3 minutes or so, taking most of a core for 7 s and stalling
     * mining on a shared machine. Smaller segments spread the same work into small steps.
     */
    public static final int INTERNAL_TOPIC_SEGMENT_BYTES = 64 << 20;

    /** Kafka Streams settings: exactly-once by default, dead letters through Streams' handlers, passthrough last. */
    public static Properties streamsProperties(ServiceConfig config, DeadLetters.Counter counter) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, config.processingGuarantee());
        if (config.topicReplicationFactor() != -1) {
            p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) config.topicReplicationFactor());
        }
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetters.OnDeserialization.class);
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetters.OnProcessing.class);
        // The jobs table's processing too (a JobConfig the service rejects); Kafka Streams 5 will do so by default.
        // Also given to the main consumer, whose partition assignor reads Streams settings from the consumer's
        // own and would warn at every start that the handler is off.
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        p.put(StreamsConfig.mainConsumerPrefix(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG), true);
        p.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetters.OnProduction.class);
        p.put(DeadLetters.TOPIC_CONFIG, config.topics().dlq());
        p.put(DeadLetters.COUNTER_CONFIG, counter);
        p.put(StreamsConfig.topicPrefix(TopicConfig.SEGMENT_BYTES_CONFIG), Integer.toString(INTERNAL_TOPIC_SEGMENT_BYTES));
        p.putAll(config.kafka());
        return p;
    }

    /**
     * Creates or checks the topics, registers the schemas of what the service writes, then starts
     * Kafka Streams. Waits, retrying with {@link #REGISTRY_BACKOFF}, while the registry does not answer.
     *
     * <p>Kafka Streams opens the stores it finds in its state directory as it starts; one that
     * RocksDB cannot open (half-written when the process was killed, a file lost) would stop it
     * there, and every restart after it. The local state is only a copy of the changelogs, so the
     * service wipes it and starts again, restoring the stores from the changelogs as an instance
     * with an empty state directory does. Directories an earlier release kept for the stats window,
     * now in memory, are removed first ({@link LeftoverStoreDirectories}).
     */
    public void start() {
        try (Admin admin = Admin.create(adminProperties(config))) {
            TopicManager.ensure(admin, config);
        }
        registerOutputSchemas();
        starting = true;
        try {
            LeftoverStoreDirectories.remove(applicationDirectory, List.of(MiningTopology.STATS_STORE));
            streams.start();
        } catch (ProcessorStateException e) {
            if (causedBy(e, AwaitingSchema.Stopped.class)) {
                throw e; // closed while the jobs table's restore waited for the registry: nothing to wipe
            }
            LOG.warn("local state of {} cannot be opened ({}); wiping it to restore it from the changelogs",
                    config.applicationId(), rootMessage(e));
            streams.close(Duration.ofSeconds(30));
            streams.cleanUp();
            streams = newStreams();
            streams.start();
        } finally {
            starting = false;
        }
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.toString() : root.getMessage();
    }

    /**
     * Registers the schema of every topic the topology writes before it runs. A serializer would
     * otherwise register on its first record: if the registry were away by then, the stream thread
     * would wait on it (for every partition it owns) and the record would be lost to the dead
     * letters as a {@code serialization-error}. Nothing can be written without these schemas, so
     * the start waits for the registry as long as it does not answer.
     */
    private void registerOutputSchemas() {
        for (Map.Entry<String, AvroSerde<?>> output : outputs.entrySet()) {
            for (int retry = 1; ; retry++) {
                try {
                    output.getValue().prepare(output.getKey());
                    break;
                } catch (SchemaRegistryException e) {
                    if (!e.isRetriable()) {
                        throw e;
                    }
                    LOG.warn("schema registry unavailable; registering the schema of {} again: {}", output.getKey(),
                            e.getMessage());
                    try {
                        Thread.sleep(REGISTRY_BACKOFF.delay(retry).toMillis());
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        throw e;
                    }
                }
            }
        }
    }

    /** Waits until Kafka Streams runs; false on timeout. */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        return running.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Completes, with the exception that stopped it, when Kafka Streams has stopped by itself on an
     * error (state ERROR: a source topic deleted, an unrecoverable failure of a stream thread). The
     * service then mines nothing more; whoever runs it should stop and report it rather than wait.
     */
    public CompletionStage<Throwable> failure() {
        return failure;
    }

    public KafkaStreams streams() {
        return streams;
    }

    /** The service's registry client (closed with the service). */
    public SchemaRegistryClient registry() {
        return registry;
    }

    /**
     * What the service waits for, when batches or job settings it has been given cannot be used
     * yet: the schema registry, while it has not given the writer schema of some (they are held
     * back, in order, and used once it has); empty otherwise.
     */
    public Optional<String> waitingFor() {
        return schemas.waitingFor();
    }

    public DeadLetters.Counter deadLetters() {
        return deadLetters;
    }

    public ServiceConfig config() {
        return config;
    }

    /**
     * Stops Kafka Streams and leaves the consumer group, so that the other instances take this
     * one's partitions over at once instead of after {@code session.timeout.ms} (45 s by default:
     * a restarted instance or a survivor would mine nothing for that long). With static membership
     * ({@code kafka.group.instance.id}) the instance stays in the group: its restart within the
     * session timeout is meant to cause no rebalance.
     */
    @Override
    public void close() {
        if (starting) {
            schemas.close(); // a JobConfig the restore waits for stops waiting, so that the start returns
        }
        boolean staticMember = config.kafka().containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        streams.close(CloseOptions.timeout(Duration.ofSeconds(30)).withGroupMembershipOperation(staticMember
                ? CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP
                : CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        schemas.close();
        globalLetters.close();
        registry.close();
    }
}
