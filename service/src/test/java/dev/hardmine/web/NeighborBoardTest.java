package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.Neighbor;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.registry.AvroSerializer;
import dev.hardmine.registry.MockSchemaRegistry;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.client.Topics;
import dev.hardmine.testing.SharedKafkaBroker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The board that follows the neighbours topic of a real broker keeps each label's latest list. */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(60)
class NeighborBoardTest {
    private final String scope = "neighbors-" + UUID.randomUUID();
    private final SchemaRegistryClient registry = MockSchemaRegistry.scope(scope);
    private final String topic = "board-" + UUID.randomUUID() + ".neighbors";

    @AfterEach
    void dropScope() {
        registry.close();
        MockSchemaRegistry.dropScope(scope);
    }

    private static IdentityNeighbors identity(String job, String label, long step, double... scores) {
        List<Neighbor> list = new java.util.ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            list.add(new Neighbor("n" + i, scores[i], 1L, step));
        }
        return new IdentityNeighbors(job, label, step, list);
    }

    @Test
    void readsTheTopicFromTheBeginningAndKeepsTheLatestListOfEachLabel(EmbeddedKafkaBroker kafka) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1).configs(
                    Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)))).all().get();
        }
        AvroSerializer<IdentityNeighbors> serializer =
                new AvroSerializer<>(registry, SerdeConfig.of("mock://" + scope), false);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            // Before the board starts: read from the beginning, not from now.
            send(producer, serializer, identity("job", "a", 1, 1.0, 1.0));
            send(producer, serializer, identity("job", "a", 2, 3.0, 1.0));
            send(producer, serializer, identity("job", "b", 2, 2.0));
            // A job id holding '/': the board goes by the record's job and label, not the key.
            send(producer, serializer, identity("team/run", "c", 7, 1.0));
            producer.send(new ProducerRecord<>(topic, "job/bad", new byte[] {7, 7, 7})).get();
            producer.send(new ProducerRecord<String, byte[]>(topic, "job/gone", null)).get();

            try (NeighborBoard board = NeighborBoard.following(kafka.bootstrapServers(), topic, registry)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> board.labels("job").size() == 2
                        && board.label("job", "a").getStep() == 2 && !board.labels("team/run").isEmpty());
                assertThat(board.jobs()).containsExactly("job", "team/run");
                assertThat(board.labels("job")).extracting(IdentityNeighbors::getLabel).containsExactly("a", "b");
                assertThat(board.label("job", "a").getNeighbors()).extracting(Neighbor::getScore)
                        .containsExactly(3.0, 1.0);
                assertThat(board.label("team/run", "c").getStep()).isEqualTo(7);
                // a: 3/4, b: 2/2
                assertThat(NeighborBoard.concentration(board.labels("job"))).hasValue((0.75 + 1.0) / 2);

                // Followed: a list published later replaces the one held.
                send(producer, serializer, identity("job", "b", 9, 1.0, 1.0));
                await().atMost(Duration.ofSeconds(30)).until(() -> board.label("job", "b").getStep() == 9);
                assertThat(NeighborBoard.concentration(board.labels("job"))).hasValue((0.75 + 0.5) / 2);
            }
        }
    }

    private void send(KafkaProducer<String, byte[]> producer, AvroSerializer<IdentityNeighbors> serializer,
                      IdentityNeighbors n) throws Exception {
        producer.send(new ProducerRecord<>(topic, Topics.neighborsKey(n.getJobId(), n.getLabel()),
                serializer.serialize(topic, n))).get();
    }

    @Test
    void identitiesWithoutAPositiveScoreAreLeftOutOfTheConcentration() {
        assertThat(NeighborBoard.concentration(List.of())).isEmpty();
        // Scores decayed below the smallest double are 0: such an identity says nothing.
        assertThat(NeighborBoard.concentration(List.of(identity("j", "a", 1, 0.0, 0.0), identity("j", "b", 1, 1.0,
                3.0)))).isEqualTo(OptionalDouble.of(0.75));
        assertThat(NeighborBoard.counts(identity("j", "a", 1, 0.0))).isFalse();
        assertThat(NeighborBoard.counts(identity("j", "a", 1))).isFalse();
    }
}
