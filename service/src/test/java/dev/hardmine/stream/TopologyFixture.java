package dev.hardmine.stream;

import dev.hardmine.client.Topics;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.registry.AvroSerde;
import dev.hardmine.registry.MockSchemaRegistry;
import dev.hardmine.registry.SchemaFetcher;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Properties;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/** The mining topology in a TopologyTestDriver with a mock:// registry: topics as typed test topics. */
final class TopologyFixture implements AutoCloseable {
    final ServiceConfig config;
    final String registryScope = "topology-" + UUID.randomUUID();
    final SchemaRegistryClient registry = MockSchemaRegistry.scope(registryScope);
    final SerdeConfig serdeConfig = SerdeConfig.of("mock://" + registryScope);
    final AvroSerde<EmbeddingBatch> batches;
    final AvroSerde<MinedBatch> mined = new AvroSerde<>(MinedBatch.class, registry, serdeConfig, false);
    final AvroSerde<MiningStats> stats = new AvroSerde<>(MiningStats.class, registry, serdeConfig, false);
    final AvroSerde<JobConfig> jobs = new AvroSerde<>(JobConfig.class, registry, serdeConfig, false);
    final AvroSerde<IdentityNeighbors> neighbors = new AvroSerde<>(IdentityNeighbors.class, registry, serdeConfig, false);
    final DeadLetters.Counter deadLetters = new DeadLetters.Counter();
    final TopologyTestDriver driver;
    final TestInputTopic<String, EmbeddingBatch> input;
    final TestInputTopic<String, byte[]> rawInput;
    final TestInputTopic<String, JobConfig> jobConfigs;
    final TestOutputTopic<String, MinedBatch> output;
    final TestOutputTopic<String, MiningStats> statsOutput;
    final TestOutputTopic<byte[], byte[]> dlq;
    final TestOutputTopic<String, IdentityNeighbors> neighborsOutput;

    TopologyFixture(Properties overrides, Path stateDir) {
        this(overrides, stateDir, null, SchemaFetcher.none());
    }

    /**
     * With the embeddings decoded through {@code decoding(registry)} (a registry that may fail, for
     * example) and {@code schemas} telling whether a record's writer schema is at hand.
     */
    TopologyFixture(Properties overrides, Path stateDir, UnaryOperator<SchemaRegistryClient> decoding,
                    SchemaFetcher schemas) {
        batches = new AvroSerde<>(EmbeddingBatch.class, decoding == null ? registry : decoding.apply(registry),
                serdeConfig, false);
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", "127.0.0.1:9");
        p.setProperty("schema.registry.url", "mock://" + registryScope);
        p.setProperty("memory.per-identity", "0");
        p.putAll(overrides);
        config = ServiceConfig.fromProperties(p);
        Properties streams = MinerService.streamsProperties(config, deadLetters);
        streams.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        driver = new TopologyTestDriver(MiningTopology.build(config,
                new MiningTopology.RecordSerdes(batches, mined, stats, jobs, neighbors, schemas)), streams, Instant.ofEpochMilli(1_700_000_000_000L));
        Topics t = config.topics();
        input = driver.createInputTopic(t.embeddings(), Serdes.String().serializer(), batches.serializer());
        rawInput = driver.createInputTopic(t.embeddings(), Serdes.String().serializer(), Serdes.ByteArray().serializer());
        jobConfigs = driver.createInputTopic(t.jobs(), Serdes.String().serializer(), jobs.serializer());
        output = driver.createOutputTopic(t.mined(), Serdes.String().deserializer(), mined.deserializer());
        statsOutput = driver.createOutputTopic(t.stats(), Serdes.String().deserializer(), stats.deserializer());
        dlq = driver.createOutputTopic(t.dlq(), Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer());
        neighborsOutput = driver.createOutputTopic(t.neighbors(), Serdes.String().deserializer(),
                neighbors.deserializer());
    }

    void send(EmbeddingBatch b) {
        input.pipeInput(b.getJobId(), b, b.getProducedAt());
    }

    @Override
    public void close() {
        driver.close();
        MockSchemaRegistry.dropScope(registryScope);
    }
}
