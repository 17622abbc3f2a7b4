package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardmine.avro.MiningStats;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.registry.AvroSerializer;
import dev.hardmine.registry.MockSchemaRegistry;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.testing.SharedKafkaBroker;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The board that follows the stats topic of a real broker outlives what it cannot read. */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(60)
class StatsBoardTest {
    private final String scope = "board-" + UUID.randomUUID();
    private final SchemaRegistryClient registry = MockSchemaRegistry.scope(scope);
    private final String topic = "board-" + UUID.randomUUID() + ".stats";

    @AfterEach
    void dropScope() {
        registry.close();
        MockSchemaRegistry.dropScope(scope);
    }

    private static MiningStats window(String job, long start) {
        return MiningStats.newBuilder().setJobId(job).setWindowStart(Instant.ofEpochMilli(start))
                .setWindowEnd(Instant.ofEpochMilli(start + 2000)).setBatches(1).setEmbeddings(8).setTriplets(8)
                .setHard(1).setSemiHard(2).setEasy(3).setMeanLossBatchHard(0.2).setMeanLossSemiHard(0.1)
                .setMeanLossWeighted(0).setMeanDAp(0.5).setMeanDAn(0.7).setMemorySize(10).setStalenessMean(1)
                .setStalenessMax(2).setLatencyP50Ms(5).setLatencyP99Ms(9).build();
    }

    @Test
    void aRecordItCannotReadIsSkippedAndTheRestIsShown(EmbeddedKafkaBroker kafka) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        }
        long now = System.currentTimeMillis();
        AvroSerializer<MiningStats> serializer = new AvroSerializer<>(registry, SerdeConfig.of("mock://" + scope), false);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer());
             StatsBoard board = StatsBoard.following(kafka.bootstrapServers(), topic, registry)) {
            producer.send(new ProducerRecord<>(topic, "job", serializer.serialize(topic, window("job", now)))).get();
            producer.send(new ProducerRecord<>(topic, "job", new byte[] {7, 7, 7})).get();
            producer.send(new ProducerRecord<>(topic, "job", serializer.serialize(topic, window("job", now + 2000))))
                    .get();

            await().atMost(Duration.ofSeconds(30)).until(() -> board.stats("job", 0).size() == 2);
            assertThat(board.stats("job", 0)).extracting(s -> s.getWindowStart().toEpochMilli())
                    .containsExactly(now, now + 2000);
        }
    }
}
