package dev.hardmine.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.cli.HardmineCommand;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.registry.AvroSerializer;
import dev.hardmine.registry.MockSchemaRegistry;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.testing.SharedKafkaBroker;
import dev.hardmine.testing.SyntheticLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code replay --input kafka:TOPIC} between offsets and between timestamps. */
@ExtendWith(SharedKafkaBroker.class)
class KafkaReplayRangeTest {
    @TempDir
    Path dir;

    private final String topic = "replay-range-" + UUID.randomUUID();
    private final String registry = "mock://replay-range-" + UUID.randomUUID();
    private List<EmbeddingBatch> batches;
    private String bootstrap;

    /** Six batches of one job (so one partition), produced with timestamps 1000, 2000, … 6000. */
    @BeforeEach
    void publish(EmbeddedKafkaBroker broker) throws Exception {
        bootstrap = broker.bootstrapServers();
        broker.createTopics(1, topic);
        batches = new ArrayList<>();
        for (EmbeddingBatch b : SyntheticLog.batches(21, 12, 4, 3, 8)) {
            if (b.getJobId().equals("job-0")) {
                batches.add(b);
            }
        }
        try (KafkaProducer<String, EmbeddingBatch> producer = new KafkaProducer<>(
                Map.of("bootstrap.servers", bootstrap), new StringSerializer(),
                new AvroSerializer<>(MockSchemaRegistry.scope(registry.substring("mock://".length())),
                        SerdeConfig.of(registry), false))) {
            for (int i = 0; i < batches.size(); i++) {
                producer.send(new ProducerRecord<>(topic, 0, 1000L * (i + 1), "job-0", batches.get(i))).get();
            }
        }
    }

    private List<String> replay(String... range) throws Exception {
        Path out = dir.resolve(UUID.randomUUID() + ".jsonl");
        List<String> args = new ArrayList<>(List.of("replay", "--input", "kafka:" + topic,
                "--bootstrap-servers", bootstrap, "--schema-registry-url", registry, "--output", out.toString()));
        args.addAll(List.of(range));
        assertThat(HardmineCommand.commandLine().execute(args.toArray(String[]::new))).isZero();
        List<String> ids = new ArrayList<>();
        for (String line : Files.readAllLines(out)) {
            JsonNode n = JsonLines.MAPPER.readTree(line);
            ids.add(n.get("batch_id").asText());
        }
        return ids;
    }

    @Test
    void replaysTheWholeTopicByDefault() throws Exception {
        assertThat(replay()).containsExactlyElementsOf(batches.stream().map(EmbeddingBatch::getBatchId).toList());
    }

    @Test
    void offsetRangeIncludesFromAndExcludesTo() throws Exception {
        assertThat(replay("--from-offset", "2", "--to-offset", "4"))
                .containsExactly(batches.get(2).getBatchId(), batches.get(3).getBatchId());
    }

    @Test
    void timestampRangeStartsAtTheFirstRecordAtOrAfterFromAndStopsBeforeTo() throws Exception {
        assertThat(replay("--from-timestamp", "2500", "--to-timestamp", "5000"))
                .containsExactly(batches.get(2).getBatchId(), batches.get(3).getBatchId());
    }
}
