package dev.hardmine.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.testing.SharedKafkaBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The embedded registry kept in a real Kafka topic, as Confluent's registry keeps {@code _schemas}. */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(60)
class KafkaBackedSchemaRegistryTest {

    private final EmbeddedKafkaBroker kafka;
    private final String topic = "_schemas-" + UUID.randomUUID();

    KafkaBackedSchemaRegistryTest(EmbeddedKafkaBroker kafka) {
        this.kafka = kafka;
    }

    private EmbeddedSchemaRegistry start() {
        return EmbeddedSchemaRegistry.builder().kafka(kafka.bootstrapServers()).topic(topic).start();
    }

    @Test
    void servesTheSameIdsAfterARestartOnTheSameTopic() {
        int embeddingId;
        int minedId;
        int sharedId;
        try (EmbeddedSchemaRegistry registry = start()) {
            SchemaRegistryClient client = SchemaRegistryClient.forUrl(registry.url());
            embeddingId = client.register("a-value", EmbeddingBatch.getClassSchema());
            minedId = client.register("b-value", MinedBatch.getClassSchema());
            sharedId = client.register("c-value", EmbeddingBatch.getClassSchema());
        }

        try (EmbeddedSchemaRegistry restarted = start()) {
            SchemaRegistryClient client = SchemaRegistryClient.forUrl(restarted.url());
            assertThat(client.getSchemaById(embeddingId)).isEqualTo(EmbeddingBatch.getClassSchema());
            assertThat(client.getSchemaById(minedId)).isEqualTo(MinedBatch.getClassSchema());
            assertThat(sharedId).isEqualTo(embeddingId);
            assertThat(client.getLatestVersion("b-value").id()).isEqualTo(minedId);
            assertThat(client.register("a-value", EmbeddingBatch.getClassSchema())).isEqualTo(embeddingId);
            assertThat(client.register("d-value", JobConfig.getClassSchema())).isEqualTo(Math.max(embeddingId, minedId) + 1);
        }
    }

    @Test
    void keepsCompatibilityLevelsAcrossARestart() {
        try (EmbeddedSchemaRegistry registry = start()) {
            SchemaRegistryClient.forUrl(registry.url()).register("x-value", EmbeddingBatch.getClassSchema());
            RawHttp.put(registry.url() + "/config/x-value", "{\"compatibility\":\"NONE\"}");
        }

        try (EmbeddedSchemaRegistry restarted = start()) {
            // Incompatible under the default BACKWARD; accepted because the subject's NONE was kept.
            int id = SchemaRegistryClient.forUrl(restarted.url()).register("x-value", MinedBatch.getClassSchema());
            assertThat(id).isPositive();
        }
    }

    @Test
    void createsItsTopicCompactedWithOnePartition() throws Exception {
        try (EmbeddedSchemaRegistry registry = start(); Admin admin = kafka.admin()) {
            var description = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            var config = admin.describeConfigs(List.of(resource)).all().get(10, TimeUnit.SECONDS).get(resource);

            assertThat(description.partitions()).hasSize(1);
            assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
        }
    }

    @Test
    void refusesATopicThatWouldDeleteSchemas() {
        kafka.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("cleanup.policy", "delete"))));

        assertThatThrownBy(this::start)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cleanup.policy=compact");
    }

    /** Plain HTTP for the calls the client interface does not make. */
    static final class RawHttp {
        static void put(String url, String body) {
            try {
                var response = java.net.http.HttpClient.newHttpClient().send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(200);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }
}
