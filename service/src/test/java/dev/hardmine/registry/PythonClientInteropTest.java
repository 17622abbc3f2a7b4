package dev.hardmine.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.Sample;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.testing.SharedKafkaBroker;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Debian's confluent_kafka (SchemaRegistryClient, Producer, Consumer) and python3-avro, run with
 * /usr/bin/python3, against the embedded registry on a real broker. The script runs once; each test
 * checks one thing it did. Missing Python packages fail the tests: CI installs them.
 */
@ExtendWith(SharedKafkaBroker.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PythonClientInteropTest {

    private static final String PYTHON = "/usr/bin/python3";
    private static final int BATCHES = 3;

    private final EmbeddedKafkaBroker kafka;
    private InteropSupport.Setup setup;
    private InteropSupport.ScriptResult script;

    PythonClientInteropTest(EmbeddedKafkaBroker kafka) {
        this.kafka = kafka;
    }

    @BeforeAll
    void runThePythonClient() throws Exception {
        Path projectDir = InteropSupport.projectDir();
        // Fails with the import error when apt's python3-confluent-kafka, python3-avro or python3-requests is missing.
        InteropSupport.run(List.of(PYTHON, "-c", "import confluent_kafka.schema_registry, avro.io"), projectDir, Duration.ofSeconds(20));
        setup = InteropSupport.Setup.start(kafka, "python");

        script = InteropSupport.run(List.of(PYTHON, "service/src/test/python/interop.py", setup.registry.url(), kafka.bootstrapServers(),
                setup.inputTopic, setup.outputTopic, "schemas/EmbeddingBatch.avsc", Integer.toString(BATCHES)), projectDir, Duration.ofSeconds(60));
    }

    @AfterAll
    void stopRegistry() {
        if (setup != null) {
            setup.close();
        }
    }

    @Test
    void thePythonClientRegistersLooksUpAndFetchesTheSchema() {
        JsonNode registered = script.line("REGISTERED");
        int id = registered.get("id").asInt();

        assertThat(registered.get("lookup_id").asInt()).isEqualTo(id);
        assertThat(registered.get("lookup_version").asInt()).isEqualTo(1);
        assertThat(registered.get("latest_id").asInt()).isEqualTo(id);
        assertThat(registered.get("fetched_name").asText()).isEqualTo("EmbeddingBatch");
        assertThat(setup.client.getSchemaById(id).getFullName()).isEqualTo("dev.hardmine.avro.EmbeddingBatch");
    }

    @Test
    void pythonsSpacedSchemaAndHardminesSchemaGetOneId() {
        int pythonId = script.line("REGISTERED").get("id").asInt();

        try (var serde = new AvroSerde<>(EmbeddingBatch.class, setup.client, SerdeConfig.of(setup.registry.url()), false)) {
            byte[] bytes = serde.serializer().serialize(setup.inputTopic, TestRecords.embeddingBatch());

            assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(pythonId);
        }
    }

    @Test
    void hardmineReadsTheBatchesThePythonProducerWrote() {
        List<ConsumerRecord<String, EmbeddingBatch>> records = setup.readInput(BATCHES);

        assertThat(records).hasSize(BATCHES);
        for (int i = 0; i < BATCHES; i++) {
            ConsumerRecord<String, EmbeddingBatch> record = records.get(i);
            EmbeddingBatch batch = record.value();
            assertThat(record.key()).isEqualTo("job-python");
            assertThat(batch.getWorkerId()).isEqualTo("python-worker");
            assertThat(batch.getBatchId()).isEqualTo("py-batch-" + i);
            assertThat(batch.getStep()).isEqualTo(200L + i);
            assertThat(batch.getModelVersion()).isEqualTo("py-v1");
            assertThat(batch.getProducedAt()).isEqualTo(Instant.ofEpochMilli(1_700_000_001_000L + i));
            assertThat(batch.getDim()).isEqualTo(2);
            List<Sample> samples = batch.getSamples();
            assertThat(samples).extracting(Sample::getSampleId).containsExactly("p" + i + "-a", "p" + i + "-b");
            assertThat(samples).extracting(Sample::getLabel).containsExactly("owl", "fox");
            assertThat(samples.get(0).getEmbedding()).isEqualTo(TestRecords.floats(i + 0.25f, -0.5f));
            assertThat(samples.get(1).getEmbedding()).isEqualTo(TestRecords.floats(1.5f, -i));
        }
    }

    @Test
    void thePythonClientDecodesTheMinedBatchHardmineWrote() {
        JsonNode decoded = script.line("DECODED");
        JsonNode value = decoded.get("value");

        assertThat(decoded.get("key").asText()).isEqualTo("job-1");
        assertThat(decoded.get("schemaId").asInt()).isEqualTo(setup.minedBatchId);
        assertThat(value.get("job_id").asText()).isEqualTo("job-1");
        assertThat(value.get("worker_id").asText()).isEqualTo("worker-0");
        assertThat(value.get("margin").asDouble()).isEqualTo((double) 0.2f);
        assertThat(value.get("mined_at").asLong()).isEqualTo(1_700_000_000_456L);
        JsonNode triplet = value.get("triplets").get(0);
        assertThat(triplet.get("positive_id").asText()).isEqualTo("s3");
        assertThat(triplet.get("d_an").asDouble()).isEqualTo(0.5);
        assertThat(triplet.get("negative_step").asLong()).isEqualTo(42L);
        assertThat(value.get("stats").get("valid_anchors").asLong()).isEqualTo(1L);
        assertThat(value.get("stats").get("mining_ms").asDouble()).isCloseTo(1.5, within(1e-12));
    }
}
