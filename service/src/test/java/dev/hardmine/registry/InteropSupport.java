package dev.hardmine.registry;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;

/** Running the third-party client scripts and moving records to and from the broker for interop tests. */
final class InteropSupport {

    private static final ObjectMapper JSON = new ObjectMapper();

    private InteropSupport() {
    }

    /**
     * What both interop tests start from: a Kafka-backed registry of their own on the shared broker,
     * an input and an output topic, and one {@link TestRecords#minedBatch()} that hardmine wrote to
     * the output topic for the client script to decode.
     */
    static final class Setup implements AutoCloseable {
        final EmbeddedKafkaBroker kafka;
        final EmbeddedSchemaRegistry registry;
        final SchemaRegistryClient client;
        final String inputTopic;
        final String outputTopic;
        final int minedBatchId;

        private Setup(EmbeddedKafkaBroker kafka, String name) throws Exception {
            this.kafka = kafka;
            this.inputTopic = name + "-embeddings-" + UUID.randomUUID();
            this.outputTopic = name + "-mined-" + UUID.randomUUID();
            this.registry = EmbeddedSchemaRegistry.builder().kafka(kafka.bootstrapServers())
                    .topic("_schemas-" + name + "-" + UUID.randomUUID()).start();
            this.client = SchemaRegistryClient.forUrl(registry.url());
            kafka.createTopics(1, inputTopic, outputTopic);
            try (var serde = new AvroSerde<>(MinedBatch.class, client, SerdeConfig.of(registry.url()), false)) {
                produce(kafka, outputTopic, "job-1", TestRecords.minedBatch(), serde.serializer());
            }
            this.minedBatchId = client.getLatestVersion(outputTopic + "-value").id();
        }

        static Setup start(EmbeddedKafkaBroker kafka, String name) throws Exception {
            return new Setup(kafka, name);
        }

        /** The first {@code count} EmbeddingBatch records of the input topic, read with hardmine's deserializer. */
        List<ConsumerRecord<String, EmbeddingBatch>> readInput(int count) {
            try (var deserializer = new AvroDeserializer<>(EmbeddingBatch.class, client)) {
                return consume(kafka, inputTopic, count, deserializer);
            }
        }

        @Override
        public void close() {
            registry.close();
        }
    }

    /** What a script printed: lines "KIND {json}" on stdout, anything on stderr. */
    record ScriptResult(List<String> command, int exitCode, List<String> stdout, String stderr) {

        /** The JSON of the first stdout line of this kind. */
        JsonNode line(String kind) {
            return stdout.stream()
                    .filter(l -> l.startsWith(kind + " "))
                    .findFirst()
                    .map(l -> {
                        try {
                            return JSON.readTree(l.substring(kind.length() + 1));
                        } catch (IOException e) {
                            throw new AssertionError("not JSON after " + kind + ": " + l, e);
                        }
                    })
                    .orElseThrow(() -> new AssertionError("no " + kind + " line in the output of " + this));
        }

        @Override
        public String toString() {
            return String.join(" ", command) + " → exit " + exitCode + "\nstdout:\n" + String.join("\n", stdout) + "\nstderr:\n" + stderr;
        }
    }

    /**
     * Runs a command in {@code dir}, waits at most {@code timeout}, and fails (never skips) when it
     * does not exit 0 in time.
     */
    static ScriptResult run(List<String> command, Path dir, Duration timeout) throws IOException, InterruptedException {
        Path out = Files.createTempFile("interop-", ".out");
        Path err = Files.createTempFile("interop-", ".err");
        try {
            Process process = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            process.getOutputStream().close(); // no input: a script waiting for some fails instead of hanging
            boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!exited) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            ScriptResult result = new ScriptResult(command, exited ? process.exitValue() : -1,
                    Files.readAllLines(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
            if (!exited) {
                throw new AssertionError("Timed out after " + timeout + ": " + result);
            }
            if (result.exitCode() != 0) {
                throw new AssertionError("Script failed: " + result);
            }
            return result;
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** The repository's top: Surefire runs every module's tests there (the parent pom's workingDirectory). */
    static Path projectDir() {
        return Path.of("").toAbsolutePath().normalize();
    }

    static <V> void produce(EmbeddedKafkaBroker kafka, String topic, String key, V value, Serializer<V> serializer) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new Utf8KeySerde().serializer(), serializer)) {
            producer.send(new ProducerRecord<>(topic, key, value)).get(20, TimeUnit.SECONDS);
        }
    }

    /** The first {@code count} records of partition 0 of {@code topic}, waiting at most 20 s. */
    static <V> List<ConsumerRecord<String, V>> consume(EmbeddedKafkaBroker kafka, String topic, int count, Deserializer<V> deserializer) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new Utf8KeySerde().deserializer(), deserializer)) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            List<ConsumerRecord<String, V>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }
}
