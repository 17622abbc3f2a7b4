package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.NeighborSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceConfigTest {
    private static ServiceConfig config(String... keyValues) {
        Map<String, String> settings = new java.util.HashMap<>(Map.of(
                "bootstrap.servers", "kafka:9092", "schema.registry.url", "mock://config"));
        for (int i = 0; i < keyValues.length; i += 2) {
            settings.put(keyValues[i], keyValues[i + 1]);
        }
        return ServiceConfig.from(settings);
    }

    @Test
    void theJobDefaultsAreTheJobKeysAndIgnoreTheRest() {
        JobSettings job = ServiceConfig.jobDefaults(Map.of("mining.margin", "0.5", "memory.per-identity", "4",
                "shards.per-job", "3", "neighbors.per-identity", "8", "application.id", "ignored"));
        assertThat(job.mining().margin()).isEqualTo(0.5f);
        assertThat(job.memory()).isEqualTo(new MemoryLimits(4, MemoryLimits.DEFAULT_MAX_EMBEDDINGS, 0));
        assertThat(job.shards()).isEqualTo(3);
        assertThat(job.neighbors()).isEqualTo(new NeighborSettings(8, NeighborSettings.DEFAULT_HALF_LIFE_STEPS));
        assertThat(ServiceConfig.jobDefaults(Map.of()))
                .isEqualTo(new JobSettings(MiningSettings.defaults(), MemoryLimits.defaults(), 1, NeighborSettings.OFF));
    }

    @Test
    void withJobReplacesOnlyTheJobDefaults() {
        ServiceConfig c = config("topics.partitions", "3");
        JobSettings job = new JobSettings(MiningSettings.defaults(), new MemoryLimits(1, 2, 3), 2,
                new NeighborSettings(8, 100));
        ServiceConfig d = c.withJob(job);
        assertThat(JobSettings.resolve(d, null)).isEqualTo(job);
        assertThat(d.topicPartitions()).isEqualTo(3);
        assertThat(d.withJob(JobSettings.resolve(c, null))).isEqualTo(c);
    }

    @Test
    void aKafkaDefaultDoesNotReplaceASettingGiven() {
        ServiceConfig c = config("kafka.application.server", "given:1");
        assertThat(c.withKafkaDefault("application.server", "web:2").kafka()).containsEntry("application.server", "given:1");
        assertThat(config().withKafkaDefault("application.server", "web:2").kafka())
                .containsExactlyEntriesOf(Map.of("application.server", "web:2"));
    }

    @Test
    void anEmptyValueTakesTheDefault() {
        assertThat(config("topics.partitions", " ", "mining.normalize", "").topicPartitions()).isEqualTo(6);
    }

    @Test
    void itsTextHidesTheSecretsAmongTheKafkaProperties() {
        ServiceConfig c = config(
                "kafka.security.protocol", "SASL_SSL",
                "kafka.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                        + "username=\"miner\" password=\"jaas-pass-1\";",
                "kafka.ssl.truststore.password", "trust-pass-2",
                "kafka.producer.ssl.key.password", "key-pass-3",
                "kafka.ssl.keystore.key", "-----BEGIN PRIVATE KEY----- pem-key-4",
                "kafka.sasl.oauthbearer.client.credentials.client.secret", "oauth-secret-5");
        assertThat(c.toString()).contains("security.protocol=SASL_SSL", "bootstrapServers=kafka:9092", "[hidden]")
                .doesNotContain("jaas-pass-1", "trust-pass-2", "key-pass-3", "pem-key-4", "oauth-secret-5");
        assertThat(c.kafka()).as("the clients still get them").containsEntry("ssl.truststore.password", "trust-pass-2");
    }
}
