package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.mining.InvalidBatchException;
import dev.hardmine.registry.RegisteredSchema;
import dev.hardmine.registry.SchemaFetcher;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SchemaRegistryException;
import dev.hardmine.registry.UnknownSchemaIdException;
import dev.hardmine.retry.Backoff;
import dev.hardmine.testing.EvolvedRecords;
import dev.hardmine.testing.SyntheticLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batches whose writer schema the registry cannot give yet (it does not answer) are held back in
 * their partition's order, not dead-lettered, and mined once it answers; a definite "no such
 * schema" is still the dead letter {@code unknown-schema-id}.
 */
class HeldBatchesTest {
    /** The registry of the fixture, which can stop answering {@code getSchemaById} as an unreachable one does. */
    private static final class Outage implements SchemaRegistryClient {
        volatile SchemaRegistryClient registry;
        volatile boolean down;

        @Override
        public int register(String subject, Schema schema) {
            return registry.register(subject, schema);
        }

        @Override
        public RegisteredSchema lookup(String subject, Schema schema) {
            return registry.lookup(subject, schema);
        }

        @Override
        public Schema getSchemaById(int id) {
            if (down) {
                throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                        SchemaRegistryException.NO_ERROR_CODE, "GET /schemas/ids/" + id + " could not connect");
            }
            return registry.getSchemaById(id);
        }

        @Override
        public RegisteredSchema getLatestVersion(String subject) {
            return registry.getLatestVersion(subject);
        }

        @Override
        public boolean testCompatibility(String subject, Schema schema) {
            return registry.testCompatibility(subject, schema);
        }
    }

    @TempDir
    Path stateDir;

    private final Outage outage = new Outage();
    private final SchemaFetcher schemas = new SchemaFetcher(outage, Backoff.fixed(Duration.ofMillis(20)),
            Duration.ofMillis(100));
    private TopologyFixture f;
    private final List<EmbeddingBatch> log = SyntheticLog.batches(5, 4, 3, 2, 4).stream()
            .map(b -> EmbeddingBatch.newBuilder(b).setJobId("job").build()).toList();

    @BeforeEach
    void start() {
        f = new TopologyFixture(new Properties(), stateDir, registry -> {
            outage.registry = registry;
            return outage;
        }, schemas);
    }

    @AfterEach
    void stop() {
        f.close();
        schemas.close();
    }

    @Test
    void aBatchOfANewSchemaAndThoseAfterItWaitForTheRegistryAndAreMinedInOrderOnceItAnswers() {
        f.send(log.get(0));
        assertThat(f.output.readRecordsToList()).hasSize(1);

        int evolvedId = f.registry.register(f.config.topics().embeddings() + "-value", EvolvedRecords.schema(EmbeddingBatch.getClassSchema()));
        outage.down = true;
        Headers trace = new RecordHeaders().add("trace-id", "t-1".getBytes(StandardCharsets.UTF_8));
        f.rawInput.pipeInput(new TestRecord<>("job", EvolvedRecords.payload(evolvedId, log.get(1)), trace, 1L));
        f.send(log.get(2)); // a known schema, behind the held one in the partition: it waits too
        f.driver.advanceWallClockTime(Duration.ofSeconds(1));
        assertThat(f.output.readRecordsToList()).as("mined while the registry is down").isEmpty();
        assertThat(schemas.waitingFor()).get(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .contains("schema registry").contains("[" + evolvedId + "]");

        outage.down = false;
        await().atMost(Duration.ofSeconds(30)).until(() -> schemas.waitingFor().isEmpty());
        f.driver.advanceWallClockTime(HeldBatches.RETRY_EVERY);
        f.send(log.get(3));

        List<TestRecord<String, MinedBatch>> mined = f.output.readRecordsToList();
        assertThat(mined).extracting(r -> r.value().getBatchId())
                .containsExactly(log.get(1).getBatchId(), log.get(2).getBatchId(), log.get(3).getBatchId());
        assertThat(mined.get(0).headers().lastHeader("trace-id").value()).as("the held record's own headers")
                .isEqualTo("t-1".getBytes(StandardCharsets.UTF_8));
        // No limit on the memory: it holds every distinct sample id of the four batches.
        long sampleIds = log.stream().flatMap(b -> b.getSamples().stream()).map(s -> s.getSampleId()).distinct().count();
        assertThat(mined.get(2).value().getStats().getMemorySize()).isEqualTo(sampleIds);
        assertThat(f.dlq.readRecordsToList()).isEmpty();
        assertThat(f.deadLetters.total()).isZero();
    }

    @Test
    void aHeldRecordWhoseSchemaTheRegistryThenDoesNotHaveIsTheDeadLetterUnknownSchemaId() {
        f.send(log.get(0));
        byte[] unknown = EvolvedRecords.payload(987_654, log.get(1));
        outage.down = true;
        f.rawInput.pipeInput("job", unknown, 1L);
        f.send(log.get(2));
        assertThat(f.output.readRecordsToList()).hasSize(1);

        outage.down = false;
        await().atMost(Duration.ofSeconds(30)).until(() -> schemas.waitingFor().isEmpty());
        f.driver.advanceWallClockTime(HeldBatches.RETRY_EVERY);

        assertThat(f.output.readRecordsToList()).extracting(r -> r.value().getBatchId())
                .containsExactly(log.get(2).getBatchId());
        List<TestRecord<byte[], byte[]>> letters = f.dlq.readRecordsToList();
        assertThat(letters).hasSize(1);
        assertThat(letters.get(0).value()).isEqualTo(unknown);
        assertThat(new String(letters.get(0).key(), StandardCharsets.UTF_8)).isEqualTo("job");
        assertThat(header(letters.get(0), DeadLetters.REASON)).isEqualTo(UnknownSchemaIdException.REASON);
        assertThat(header(letters.get(0), DeadLetters.SOURCE_OFFSET)).isEqualTo("1");
        assertThat(f.deadLetters.snapshot()).containsExactly(Map.entry(UnknownSchemaIdException.REASON, 1L));
    }

    /**
     * A held batch that decodes once the registry answers but that the miner then rejects (here a
     * dimension other than the job's) is the dead letter of its own record: its bytes, key and
     * source offset, not those of whatever record was being processed when it was let go — a new
     * record of the partition, or none (the wall-clock punctuation).
     */
    @ParameterizedTest(name = "released by {0}")
    @ValueSource(strings = {"a new record", "the punctuation"})
    void aHeldBatchTheMinerRejectsIsTheDeadLetterOfItsOwnRecord(String releasedBy) {
        f.send(log.get(0));
        assertThat(f.output.readRecordsToList()).hasSize(1);
        int evolvedId = f.registry.register(f.config.topics().embeddings() + "-value", EvolvedRecords.schema(EmbeddingBatch.getClassSchema()));
        EmbeddingBatch otherDim = EmbeddingBatch.newBuilder(SyntheticLog.batches(6, 1, 3, 2, 8).get(0))
                .setJobId("job").build();
        byte[] rejected = EvolvedRecords.payload(evolvedId, otherDim);
        outage.down = true;
        f.rawInput.pipeInput("job", rejected, 1L); // offset 1, held
        f.driver.advanceWallClockTime(Duration.ofSeconds(1));
        outage.down = false;
        await().atMost(Duration.ofSeconds(30)).until(() -> schemas.waitingFor().isEmpty());
        if (releasedBy.equals("a new record")) {
            f.send(log.get(2)); // offset 2: lets the held record go, then goes on itself
        } else {
            f.driver.advanceWallClockTime(HeldBatches.RETRY_EVERY);
            f.send(log.get(2));
        }

        assertThat(f.output.readRecordsToList()).extracting(r -> r.value().getBatchId())
                .containsExactly(log.get(2).getBatchId());
        List<TestRecord<byte[], byte[]>> letters = f.dlq.readRecordsToList();
        assertThat(letters).hasSize(1);
        assertThat(header(letters.get(0), DeadLetters.REASON)).isEqualTo(InvalidBatchException.DIM_MISMATCH);
        assertThat(letters.get(0).value()).as("the rejected record's own bytes").isEqualTo(rejected);
        assertThat(new String(letters.get(0).key(), StandardCharsets.UTF_8)).isEqualTo("job");
        assertThat(header(letters.get(0), DeadLetters.SOURCE_TOPIC)).isEqualTo(f.config.topics().embeddings());
        assertThat(header(letters.get(0), DeadLetters.SOURCE_PARTITION)).isEqualTo("0");
        assertThat(header(letters.get(0), DeadLetters.SOURCE_OFFSET)).isEqualTo("1");
        assertThat(f.deadLetters.snapshot()).containsExactly(Map.entry(InvalidBatchException.DIM_MISMATCH, 1L));
    }

    /**
     * Kafka Streams initialises a task's processors again after it rebuilt the task's state: the
     * processor counts what its store holds afresh, so a record that arrives once the store is
     * empty again goes straight on, in order behind the released one, and is not kept back.
     */
    @Test
    void aProcessorInitialisedAgainCountsItsHeldRecordsAfresh() {
        Properties config = new Properties();
        config.put(DeadLetters.TOPIC_CONFIG, "dlq");
        MockProcessorContext<String, HeldBatches.Released> context = new MockProcessorContext<>(config);
        KeyValueStore<Long, byte[]> store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(HeldBatches.STORE),
                Serdes.Long(), Serdes.ByteArray()).withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
        byte[] first = {0, 1};
        Map<Integer, EmbeddingBatch> byFirstByte = Map.of(0, log.get(0), 1, log.get(1));
        Deserializer<EmbeddingBatch> batches = (topic, payload) -> byFirstByte.get((int) payload[0]);
        HeldBatches hold = new HeldBatches("embeddings", HeldBatches.arrivals(batches, SchemaFetcher.none()));
        store.put(0L, HeldBatches.encode(new HeldBatches.Held(0, 4, 1L, "job", first, new RecordHeaders())));

        hold.init(context); // as a task starts: one record held, the registry has answered since
        hold.init(context); // as the task is revived with the same processors, its store restored
        context.setRecordMetadata("embeddings", 0, 5);
        hold.process(new Record<>("job", new HeldBatches.Arrival(log.get(1), new byte[] {1}), 2L));

        assertThat(context.forwarded()).extracting(f -> f.record().value().batch().getBatchId())
                .containsExactly(log.get(0).getBatchId(), log.get(1).getBatchId());
        try (KeyValueIterator<Long, byte[]> left = store.all()) {
            assertThat(left.hasNext()).as("records left held").isFalse();
        }
    }

    private static String header(TestRecord<byte[], byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
