package dev.hardmine.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
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
 * Node's kafkajs and @kafkajs/confluent-schema-registry (service/src/test/node, installed by {@code npm ci})
 * against the embedded registry on a real broker. The script runs once; each test checks one thing
 * it did. Missing node modules fail the tests: CI installs them.
 */
@ExtendWith(SharedKafkaBroker.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeClientInteropTest {

    private static final int BATCHES = 3;

    private final EmbeddedKafkaBroker kafka;
    private InteropSupport.Setup setup;
    private InteropSupport.ScriptResult script;

    NodeClientInteropTest(EmbeddedKafkaBroker kafka) {
        this.kafka = kafka;
    }

    @BeforeAll
    void runTheNodeClient() throws Exception {
        Path nodeDir = InteropSupport.projectDir().resolve("service/src/test/node");
        assertThat(nodeDir.resolve("node_modules/kafkajs/package.json"))
                .as("kafkajs is not installed: run `npm ci` in service/src/test/node (.ci/run does)")
                .exists();
        assertThat(nodeDir.resolve("node_modules/@kafkajs/confluent-schema-registry/package.json"))
                .as("@kafkajs/confluent-schema-registry is not installed: run `npm ci` in service/src/test/node (.ci/run does)")
                .exists();
        setup = InteropSupport.Setup.start(kafka, "node");

        Path schemaFile = InteropSupport.projectDir().resolve("schemas/EmbeddingBatch.avsc");
        script = InteropSupport.run(List.of("node", "interop.js", setup.registry.url(), kafka.bootstrapServers(),
                setup.inputTopic, setup.outputTopic, schemaFile.toString(), Integer.toString(BATCHES)), nodeDir, Duration.ofSeconds(60));
    }

    @AfterAll
    void stopRegistry() {
        if (setup != null) {
            setup.close();
        }
    }

    @Test
    void theNodeClientRegistersTheAvscUnderTheTopicValueSubject() throws Exception {
        JsonNode registered = script.line("REGISTERED");
        RegisteredSchema latest = setup.client.getLatestVersion(setup.inputTopic + "-value");

        assertThat(registered.get("id").asInt()).isEqualTo(latest.id());
        assertThat(latest.schema()).isEqualTo(TestRecords.avsc("EmbeddingBatch"));
    }

    @Test
    void theNodeClientsFirstRegistrationSetsTheSubjectsCompatibility() throws Exception {
        var response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(setup.registry.url() + "/config/" + setup.inputTopic + "-value")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"compatibilityLevel\":\"BACKWARD\"}");
    }

    @Test
    void hardmineReadsTheBatchesTheNodeClientEncodedAndProduced() {
        List<ConsumerRecord<String, EmbeddingBatch>> records = setup.readInput(BATCHES);

        assertThat(records).hasSize(BATCHES);
        for (int i = 0; i < BATCHES; i++) {
            ConsumerRecord<String, EmbeddingBatch> record = records.get(i);
            EmbeddingBatch batch = record.value();
            assertThat(record.key()).isEqualTo("job-node");
            assertThat(batch.getJobId()).isEqualTo("job-node");
            assertThat(batch.getWorkerId()).isEqualTo("node-worker");
            assertThat(batch.getBatchId()).isEqualTo("node-batch-" + i);
            assertThat(batch.getStep()).isEqualTo(100L + i);
            assertThat(batch.getModelVersion()).isEqualTo("node-v1");
            assertThat(batch.getProducedAt()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L + i));
            assertThat(batch.getDim()).isEqualTo(3);
            List<Sample> samples = batch.getSamples();
            assertThat(samples).extracting(Sample::getSampleId).containsExactly("n" + i + "-a", "n" + i + "-b");
            assertThat(samples).extracting(Sample::getLabel).containsExactly("cat", "dog");
            assertThat(samples.get(0).getEmbedding()).isEqualTo(TestRecords.floats(i + 0.5f, -1.25f, 2.0f));
            assertThat(samples.get(1).getEmbedding()).isEqualTo(TestRecords.floats(0.125f, i, -3.5f));
        }
    }

    @Test
    void theNodeClientDecodesTheMinedBatchHardmineWrote() {
        JsonNode decoded = script.line("DECODED");
        JsonNode value = decoded.get("value");
        MinedBatch expected = TestRecords.minedBatch();

        assertThat(decoded.get("key").asText()).isEqualTo("job-1");
        assertThat(decoded.get("schemaId").asInt()).isEqualTo(setup.minedBatchId);
        assertThat(value.get("job_id").asText()).isEqualTo(expected.getJobId());
        assertThat(value.get("batch_id").asText()).isEqualTo(expected.getBatchId());
        assertThat(value.get("strategy").asText()).isEqualTo("batch-hard");
        assertThat(value.get("margin").asDouble()).isEqualTo((double) 0.2f);
        assertThat(value.get("mined_at").asLong()).isEqualTo(1_700_000_000_456L);
        assertThat(value.get("triplets")).hasSize(1);
        JsonNode triplet = value.get("triplets").get(0);
        assertThat(triplet.get("anchor_id").asText()).isEqualTo("s1");
        assertThat(triplet.get("negative_label").asText()).isEqualTo("dog");
        assertThat(triplet.get("d_ap").asDouble()).isEqualTo(0.75);
        assertThat(triplet.get("positive_step").asLong()).isEqualTo(41L);
        assertThat(value.get("stats").get("hard").asLong()).isEqualTo(1L);
        assertThat(value.get("stats").get("loss_batch_hard").asDouble()).isCloseTo(0.45, within(1e-12));
        assertThat(value.get("stats").get("memory_identities").asLong()).isEqualTo(2L);
    }
}
