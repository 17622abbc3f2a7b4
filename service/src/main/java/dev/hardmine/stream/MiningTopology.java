package dev.hardmine.stream;

import dev.hardmine.client.Topics;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.registry.SchemaFetcher;
import java.time.Duration;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowBytesStoreSupplier;

/**
 * Builds hardmine's topology — and only builds it: the same topology runs in {@code run},
 * {@code demo}, the tests and replay from Kafka.
 * <pre>
 * embeddings ─(decode; failures → dlq)─▶ hold (while the registry is waited for)
 *   ─▶ [split by hash(label) % shards ─▶ repartition by job#shard]
 *   ─▶ mine (memory store with changelog; job-configs global table) ─▶ mined (key job_id/worker_id)
 *                                                                  ├▶ window by job ─▶ stats
 *                                   (neighbour store with changelog) └▶ confusable identities ─▶ neighbors
 * </pre>
 * The identity-sharding stage is present when {@code shards.per-job} > 1; a job's JobConfig may
 * then choose its own number of shards.
 */
public final class MiningTopology {
    public static final String JOB_CONFIG_STORE = "job-configs";
    public static final String STATS_STORE = "stats-window";
    /** With identity sharding: each job's dim, so that a batch is checked whole before it is split. */
    public static final String JOB_DIM_STORE = "job-dims";

    private MiningTopology() {
    }

    /** The node that holds batches back while the registry has not given their writer schema. */
    public static final String HOLD_NODE = "hold-until-schema";

    /**
     * The serdes of the record types (see {@link Topics}), and the fetcher that tells whether an
     * embeddings record's writer schema is at hand ({@link HeldBatches}).
     */
    public record RecordSerdes(Serde<EmbeddingBatch> batches, Serde<MinedBatch> mined, Serde<MiningStats> stats,
                               Serde<JobConfig> jobs, Serde<IdentityNeighbors> neighbors, SchemaFetcher schemas) {
        /** Serdes whose registry is never out of reach (in-process): nothing is held back. */
        public RecordSerdes(Serde<EmbeddingBatch> batches, Serde<MinedBatch> mined, Serde<MiningStats> stats,
                            Serde<JobConfig> jobs, Serde<IdentityNeighbors> neighbors) {
            this(batches, mined, stats, jobs, neighbors, SchemaFetcher.none());
        }
    }

    public static Topology build(ServiceConfig config, RecordSerdes serdes) {
        return build(config, serdes, MiningObserver.NONE);
    }

    /** The topology, with {@code observer} told of every batch mined (for metrics). */
    public static Topology build(ServiceConfig config, RecordSerdes serdes, MiningObserver observer) {
        Topics topics = config.topics();
        StreamsBuilder builder = new StreamsBuilder();
        // Read, and restored, through the source's deserializer, which waits for the registry (JobConfigTable).
        Serde<JobConfig> awaitingSchema = Serdes.serdeFrom(serdes.jobs().serializer(),
                new AwaitingSchema<>(serdes.jobs().deserializer(), serdes.schemas()));
        builder.addGlobalStore(Stores.timestampedKeyValueStoreBuilder(
                        Stores.persistentTimestampedKeyValueStore(JOB_CONFIG_STORE), Serdes.String(), serdes.jobs())
                        .withLoggingDisabled(),
                topics.jobs(), Consumed.with(Serdes.String(), awaitingSchema).withName("jobs"), () -> new JobConfigTable(config));
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(MemoryStore.NAME), Serdes.Bytes(), Serdes.ByteArray()));

        KStream<String, EmbeddingBatch> batches = heldUntilSchema(builder, topics, serdes);
        boolean sharded = config.shardsPerJob() > 1;
        if (sharded) {
            builder.addStateStore(Stores.keyValueStoreBuilder(
                    Stores.persistentKeyValueStore(JOB_DIM_STORE), Serdes.String(), ShardSplitter.jobDimSerde()));
            batches = batches
                    .process(() -> new ShardSplitter(config), Named.as("split-shards"), JOB_DIM_STORE)
                    .repartition(Repartitioned.with(Serdes.String(), serdes.batches()).withName("shards"));
        }
        KStream<String, MinedBatch> mined = batches.process(() -> new MiningProcessor(config, sharded, observer),
                Named.as("mine"), MemoryStore.NAME);

        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(NeighborStore.NAME), Serdes.Bytes(), Serdes.ByteArray()));
        mined.process(() -> new NeighborTracker(config), Named.as("track-neighbors"), NeighborStore.NAME)
                .to(topics.neighbors(), Produced.with(Serdes.String(), serdes.neighbors()).withName("neighbors"));

        mined.selectKey((job, m) -> Topics.minedKey(m.getJobId(), m.getWorkerId()), Named.as("key-by-worker"))
                .to(topics.mined(), Produced.with(Serdes.String(), serdes.mined()).withName("mined"));

        // The window only reads distances, steps and statistics: the repartition carries those alone.
        mined.mapValues(MinedBatches::forStats, Named.as("for-stats"))
                .groupByKey(Grouped.with(Serdes.String(), serdes.mined()).withName("by-job"))
                // A window takes batches that arrive up to one window late (workers' batches interleave
                // out of timestamp order); past that a batch is left out of the stats, never out of mining.
                .windowedBy(TimeWindows.ofSizeAndGrace(config.statsWindow(), config.statsWindow()))
                .aggregate(StatsAccumulator::new, (job, m, acc) -> acc.add(m), Named.as("stats-window"),
                        Materialized.<String, StatsAccumulator>as(statsWindowStore(config.statsWindow()))
                                .withKeySerde(Serdes.String()).withValueSerde(StatsAccumulator.serde()))
                .toStream(Named.as("stats-updates"))
                .map((window, acc) -> KeyValue.pair(window.key(),
                        acc.toMiningStats(window.key(), window.window().start(), window.window().end())),
                        Named.as("to-mining-stats"))
                .to(topics.stats(), Produced.with(Serdes.String(), serdes.stats()).withName("stats"));
        return builder.build();
    }

    /**
     * The stats window's store: in memory, with its changelog, restored from the changelog at each
     * start. It holds a window or two per job (retention: the window and its grace period). On disk,
     * Kafka Streams 4.4 keeps a window store's changelog offset in its segments, so the store of a
     * task without a live window (a partition no job hashes to, or windows all expired) kept none:
     * under exactly-once, every start, and every task that came back to an instance in a rebalance,
     * took its task for corrupted, wiped it and forced a rebalance. An in-memory store starts from
     * its changelog by design. Directories an earlier release left for it are removed at start
     * ({@link LeftoverStoreDirectories}).
     */
    static WindowBytesStoreSupplier statsWindowStore(Duration window) {
        return Stores.inMemoryWindowStore(STATS_STORE, window.multipliedBy(2), window, false);
    }

    /**
     * The embeddings, decoded, in each partition's order; records whose writer schema the registry
     * has not given yet held back in their partition until it has, those that do not decode then
     * sent to the dead letters.
     */
    private static KStream<String, EmbeddingBatch> heldUntilSchema(StreamsBuilder builder, Topics topics,
                                                                   RecordSerdes serdes) {
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(HeldBatches.STORE), Serdes.Long(), Serdes.ByteArray()));
        Deserializer<HeldBatches.Arrival> arrivals = HeldBatches.arrivals(serdes.batches().deserializer(),
                serdes.schemas());
        Serializer<HeldBatches.Arrival> sourceOnly = (topic, arrival) -> {
            throw new UnsupportedOperationException("arrivals are read, never written");
        };
        KStream<String, HeldBatches.Released> released = builder.stream(topics.embeddings(),
                        Consumed.with(Serdes.String(), Serdes.serdeFrom(sourceOnly, arrivals)).withName("embeddings"))
                .process(() -> new HeldBatches(topics.embeddings(), arrivals), Named.as(HOLD_NODE), HeldBatches.STORE);
        released.filter((job, r) -> r.deadLetter() != null, Named.as("held-dead-letters"))
                .map((job, r) -> KeyValue.pair(r.deadLetter().key(), r.deadLetter().value()), Named.as("held-dead-letter-bytes"))
                .to(topics.dlq(), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("held-dlq"));
        return released.filter((job, r) -> r.deadLetter() == null, Named.as("released"))
                .mapValues(HeldBatches.Released::batch, Named.as("released-batches"));
    }
}
