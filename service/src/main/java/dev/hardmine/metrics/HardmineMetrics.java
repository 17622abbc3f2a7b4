package dev.hardmine.metrics;

import dev.hardmine.stream.MinerService;
import dev.hardmine.stream.MiningObserver;
import dev.hardmine.stream.ServiceConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The process's meters in one Prometheus registry, scraped at {@code /metrics}: the JVM's (memory,
 * GC, threads, class loading, processor, uptime), Kafka Streams' client metrics
 * ({@code kafka_stream_*}, {@code kafka_consumer_*}, {@code kafka_producer_*}, {@code kafka_admin_client_*}),
 * the consumer lag on the embeddings topic, and hardmine's own meters per job (see the constants
 * and the README's "Metrics" section for their Prometheus names and tags).
 *
 * <p>Use: give {@link #observer()} to the {@link MinerService} when it is built, then
 * {@link #bind(MinerService)} it; close this after the service (it stops the lag task and the
 * Kafka metrics refresh).
 */
public final class HardmineMetrics implements AutoCloseable {
    /** Counter, tag job: batches mined. Prometheus {@code hardmine_batches_total}. */
    public static final String BATCHES = "hardmine.batches";
    /** Counter, tag job: embeddings (anchors) mined. Prometheus {@code hardmine_embeddings_total}. */
    public static final String EMBEDDINGS = "hardmine.embeddings";
    /** Counter, tag job: triplets emitted. Prometheus {@code hardmine_triplets_total}. */
    public static final String TRIPLETS = "hardmine.triplets";
    /** Counter, tags job, hardness=hard|semi_hard|easy: BatchStats' counts. Prometheus {@code hardmine_triplets_counted_total}. */
    public static final String TRIPLETS_COUNTED = "hardmine.triplets.counted";
    /** Gauge, tags job, loss=batch_hard|semi_hard|weighted: the latest batch's. Prometheus {@code hardmine_loss}. */
    public static final String LOSS = "hardmine.loss";
    /** Gauge, tags job, pair=ap|an: the latest batch's mean distances. Prometheus {@code hardmine_distance_mean}. */
    public static final String DISTANCE_MEAN = "hardmine.distance.mean";
    /** Timer with histogram, tag job: mining_ms. Prometheus {@code hardmine_mining_seconds_*}. */
    public static final String MINING = "hardmine.mining";
    /** Timer with histogram, tag job: produced_at → mined_at. Prometheus {@code hardmine_latency_seconds_*}. */
    public static final String LATENCY = "hardmine.latency";
    /** Distribution summary with histogram, tag job, unit steps. Prometheus {@code hardmine_staleness_steps_*}. */
    public static final String STALENESS = "hardmine.staleness";
    /** Gauge, tag job. Prometheus {@code hardmine_memory_size}. */
    public static final String MEMORY_SIZE = "hardmine.memory.size";
    /** Gauge, tag job. Prometheus {@code hardmine_memory_identities}. */
    public static final String MEMORY_IDENTITIES = "hardmine.memory.identities";
    /** Gauge, tag job: what the memory is charged against {@code memory.max-bytes}. Prometheus {@code hardmine_memory_bytes}. */
    public static final String MEMORY_BYTES = "hardmine.memory.bytes";
    /** Gauge: {@code memory.max-bytes}, the budget of each memory (0 = none). Prometheus {@code hardmine_memory_max_bytes}. */
    public static final String MEMORY_MAX_BYTES = "hardmine.memory.max.bytes";
    /**
     * Counter, tag reason: each of {@link dev.hardmine.stream.DeadLetters#REASONS}, at 0 from the start.
     * Prometheus {@code hardmine_dead_letters_total}.
     */
    public static final String DEAD_LETTERS = "hardmine.dead.letters";
    /** Gauge, tags topic, partition. Prometheus {@code hardmine_consumer_lag}. */
    public static final String CONSUMER_LAG = "hardmine.consumer.lag";

    /** How often the consumer lag is measured. */
    static final Duration LAG_PERIOD = Duration.ofSeconds(2);
    /** How often the Kafka client metrics are checked for new ones (tasks, stores and clients come and go). */
    static final Duration KAFKA_METRICS_REFRESH = Duration.ofSeconds(10);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final MiningMeters mining = new MiningMeters(registry);
    private final Deque<AutoCloseable> bound = new ArrayDeque<>();

    public HardmineMetrics() {
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        bound.push(gc);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition format, version 0.0.4. */
    public String scrape() {
        return registry.scrape();
    }

    /** The records the service is behind on the embeddings topic, all partitions; empty before the first measurement. */
    public OptionalLong consumerLag() {
        var gauges = registry.find(CONSUMER_LAG).gauges();
        return gauges.isEmpty() ? OptionalLong.empty()
                : OptionalLong.of(gauges.stream().mapToLong(g -> (long) g.value()).sum());
    }

    /** Records hardmine's meters per mined batch and dead letter: give it to the {@link MinerService}. */
    public MiningObserver observer() {
        return mining;
    }

    /**
     * Adds the service's Kafka Streams client metrics and starts measuring its consumer group's lag
     * on the embeddings topic.
     */
    public void bind(MinerService service) {
        // A scheduler given to the binder is not shut down by it: it is closed here, after the binder.
        ScheduledExecutorService refresh = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "hardmine-kafka-metrics");
            t.setDaemon(true);
            return t;
        });
        bound.push(refresh::shutdownNow);
        KafkaStreamsMetrics streams = new KafkaStreamsMetrics(service.streams(), List.of(), refresh,
                KAFKA_METRICS_REFRESH);
        streams.bindTo(registry);
        bound.push(streams);
        ServiceConfig config = service.config();
        Gauge maxBytes = Gauge.builder(MEMORY_MAX_BYTES, config::memoryMaxBytes)
                .description("memory.max-bytes: the budget of each job's memory (per shard with identity sharding); 0 = none")
                .register(registry);
        bound.push(() -> registry.remove(maxBytes));
        bound.push(new ConsumerLag(registry, MinerService.adminProperties(config), config.applicationId(),
                config.topics().embeddings(), LAG_PERIOD));
    }

    /** Stops the lag task and the Kafka metrics refresh; the registry keeps what it has. */
    @Override
    public void close() {
        while (!bound.isEmpty()) {
            try {
                bound.pop().close();
            } catch (Exception e) {
                // closing meter binders: nothing to recover; the process is stopping
            }
        }
    }
}
