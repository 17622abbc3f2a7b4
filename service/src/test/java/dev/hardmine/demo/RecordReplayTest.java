package dev.hardmine.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.cli.HardmineCommand;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.NeighborSettings;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.json.RecordJson;
import dev.hardmine.replay.JsonLines;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A recorded demo run replays offline to exactly the MinedBatches the live run produced (all
 * fields but the wall-clock mined_at and mining_ms), and so does a replay from the live topic.
 */
class RecordReplayTest {
    @TempDir
    Path dir;

    @Test
    void recordedRunReplaysToTheSameMinedBatchesFromTheFileAndFromKafka() throws Exception {
        Path recording = dir.resolve("run.avro");
        Demo.Settings settings = new Demo.Settings(0, 0, 0, "127.0.0.1", null, true,
                new SyntheticTrainers.Settings("demo-job", 2, 8, 4, 8, Duration.ofMillis(60), 5), 1,
                200, 6, 16, 200, MiningSettings.defaults(), MemoryLimits.defaults(), new NeighborSettings(8, 200), recording, null);
        Map<String, String> live = new ConcurrentHashMap<>();
        Path fromKafka = dir.resolve("from-kafka.jsonl");
        try (Demo demo = Demo.start(settings)) {
            AtomicBoolean reading = new AtomicBoolean(true);
            Thread reader = new Thread(() -> readMined(demo, live, reading));
            reader.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> demo.trainers().get(0).published() >= 60);
            demo.trainers().get(0).close();
            long published = demo.trainers().get(0).published();
            await().atMost(Duration.ofSeconds(60)).until(() -> live.size() >= published);
            reading.set(false);
            reader.join(10_000);
            assertThat(demo.trainers().get(0).fedSamples()).isPositive();

            int code = HardmineCommand.commandLine().execute("replay", "--input", "kafka:hardmine.embeddings",
                    "--bootstrap-servers", demo.bootstrapServers(), "--schema-registry-url", demo.registryUrl(),
                    "--output", fromKafka.toString());
            assertThat(code).isZero();
        }
        assertThat(recording).exists();
        Path fromFile = dir.resolve("from-file.jsonl");
        int code = HardmineCommand.commandLine().execute("replay", "--input", recording.toString(),
                "--input-format", "avro", "--output", fromFile.toString());
        assertThat(code).isZero();

        Map<String, String> replayed = byBatch(fromFile);
        assertThat(replayed).hasSize(live.size());
        assertThat(new TreeMap<>(replayed)).isEqualTo(new TreeMap<>(live));
        assertThat(new TreeMap<>(byBatch(fromKafka))).isEqualTo(new TreeMap<>(live));
        assertThat(live.values()).anySatisfy(json -> assertThat(json).contains("\"anchor_id\""));
    }

    private static void readMined(Demo demo, Map<String, String> out, AtomicBoolean reading) {
        try (SchemaRegistryClient registry = SchemaRegistryClient.create(SerdeConfig.of(demo.registryUrl()).client());
             KafkaConsumer<String, MinedBatch> consumer = new KafkaConsumer<>(Map.of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, demo.bootstrapServers(),
                     ConsumerConfig.GROUP_ID_CONFIG, "record-replay-test",
                     ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                     ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                     new StringDeserializer(), new AvroDeserializer<>(MinedBatch.class, registry))) {
            consumer.subscribe(List.of("hardmine.mined"));
            while (reading.get()) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> out.put(r.value().getBatchId(), comparable(r.value())));
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The MinedBatch as JSON without its wall-clock fields. */
    private static String comparable(MinedBatch m) {
        try {
            StringWriter w = new StringWriter();
            try (JsonGenerator g = JsonLines.MAPPER.getFactory().createGenerator(w)) {
                RecordJson.write(g, m);
            }
            return withoutWallClock(JsonLines.MAPPER.readTree(w.toString()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String withoutWallClock(JsonNode n) throws Exception {
        ((ObjectNode) n).remove("mined_at");
        ((ObjectNode) n.get("stats")).remove("mining_ms");
        return JsonLines.MAPPER.writeValueAsString(n);
    }

    private static Map<String, String> byBatch(Path jsonl) throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (String line : Files.readAllLines(jsonl)) {
            JsonNode n = JsonLines.MAPPER.readTree(line);
            out.put(n.get("batch_id").asText(), withoutWallClock(n));
        }
        return out;
    }
}
