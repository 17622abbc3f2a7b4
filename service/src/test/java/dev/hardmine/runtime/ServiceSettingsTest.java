package dev.hardmine.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardmine.client.Topics;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.NeighborSettings;
import dev.hardmine.stream.ServiceConfig;
import dev.hardmine.web.HttpSettings;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class ServiceSettingsTest {
    private static final Map<String, String> REQUIRED = Map.of(
            "bootstrap.servers", "kafka:9092", "schema.registry.url", "mock://settings");

    private static Map<String, String> file(String... keyValues) {
        Map<String, String> file = new HashMap<>(REQUIRED);
        for (int i = 0; i < keyValues.length; i += 2) {
            file.put(keyValues[i], keyValues[i + 1]);
        }
        return file;
    }

    private static ServiceSettings fromFile(String... keyValues) {
        return ServiceSettings.resolve(file(keyValues), Map.of(), Map.of());
    }

    @Test
    void whatIsNotGivenTakesTheDeclaredDefault() {
        ServiceSettings s = fromFile();
        ServiceConfig c = s.service();
        assertThat(c.applicationId()).isEqualTo("hardmine");
        assertThat(c.topics()).isEqualTo(Topics.withPrefix("hardmine."));
        assertThat(c.topicPartitions()).isEqualTo(6);
        assertThat(c.topicReplicationFactor()).isEqualTo((short) -1);
        assertThat(c.mining()).isEqualTo(MiningSettings.defaults());
        assertThat(c.mining().margin()).isEqualTo(0.2f);
        assertThat(c.memory()).isEqualTo(MemoryLimits.defaults());
        assertThat(c.neighbors()).isEqualTo(NeighborSettings.OFF);
        assertThat(c.memoryMaxBytes()).isEqualTo(536_870_912L);
        assertThat(c.memoryKeepWarm()).isEqualTo(Duration.ofMillis(200));
        assertThat(c.shardsPerJob()).isEqualTo(1);
        assertThat(c.inputLimits().maxBatchSize()).isEqualTo(8192);
        assertThat(c.inputLimits().maxDim()).isEqualTo(4096);
        assertThat(c.statsWindow()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.processingGuarantee()).isEqualTo("exactly_once_v2");
        assertThat(c.kafka()).isEmpty();
        assertThat(s.http()).isEqualTo(new HttpSettings("127.0.0.1", 8080, null));
    }

    @Test
    void eachValueIsParsedToItsType() {
        ServiceConfig c = fromFile("mining.strategy", "semi-hard", "mining.margin", "0.35", "mining.normalize", "TRUE",
                "mining.seed", "12345678901", "neighbors.half-life-steps", "50.5", "topics.replication-factor", "3",
                "stats.window", "500ms", "topics.prefix", "x.", "topics.mined", "elsewhere",
                "memory.keep-warm", "1s").service();
        assertThat(c.mining().strategy().id()).isEqualTo("semi-hard");
        assertThat(c.mining().margin()).isEqualTo(0.35f);
        assertThat(c.mining().normalize()).isTrue();
        assertThat(c.mining().seed()).isEqualTo(12_345_678_901L);
        assertThat(c.neighbors().halfLifeSteps()).isEqualTo(50.5);
        assertThat(c.topicReplicationFactor()).isEqualTo((short) 3);
        assertThat(c.statsWindow()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.memoryKeepWarm()).isEqualTo(Duration.ofSeconds(1));
        assertThat(fromFile("memory.keep-warm", "0").service().memoryKeepWarm()).as("0 = never").isZero();
        assertThat(fromFile("memory.keep-warm", "0ms").service().memoryKeepWarm()).isZero();
        assertThat(c.topics().embeddings()).isEqualTo("x.embeddings");
        assertThat(c.topics().mined()).isEqualTo("elsewhere");
    }

    @Test
    void flagsGoOverTheFileOverTheEnvironmentOverTheDefault() {
        Map<String, String> env = Map.of("HARDMINE_MINING_MARGIN", "0.4");
        Map<String, String> flags = Map.of("mining.margin", "0.5");
        assertThat(ServiceSettings.resolve(file("mining.margin", "0.3"), env, flags).service().mining().margin())
                .isEqualTo(0.5f);
        assertThat(ServiceSettings.resolve(file("mining.margin", "0.3"), env, Map.of()).service().mining().margin())
                .isEqualTo(0.3f);
        assertThat(ServiceSettings.resolve(file(), env, Map.of()).service().mining().margin()).isEqualTo(0.4f);
        assertThat(ServiceSettings.resolve(file(), Map.of(), Map.of()).service().mining().margin()).isEqualTo(0.2f);
    }

    @Test
    void anEmptyValueDoesNotHideTheValueBelowIt() {
        ServiceSettings s = ServiceSettings.resolve(file("http.port", "9000", "http.token", ""),
                Map.of("HARDMINE_HTTP_TOKEN", "from-env"), Map.of("http.port", " "));
        assertThat(s.http().port()).isEqualTo(9000);
        assertThat(s.http().token()).isEqualTo("from-env");
    }

    @Test
    void theEnvironmentNamesEachKeyInUpperCaseWithUnderscores() {
        assertThat(ServiceSettings.environmentVariable("mining.memory-samples-max-bytes"))
                .isEqualTo("HARDMINE_MINING_MEMORY_SAMPLES_MAX_BYTES");
        assertThat(ServiceSettings.environmentVariable("http.token")).isEqualTo(HttpSettings.TOKEN_ENV);
        ServiceSettings s = ServiceSettings.resolve(Map.of(), Map.of("HARDMINE_BOOTSTRAP_SERVERS", "k:1",
                "HARDMINE_SCHEMA_REGISTRY_URL", "mock://env", "HARDMINE_TOPICS_REPLICATION_FACTOR", "3",
                "HARDMINE_HTTP_PORT", "0", "HARDMINE_KAFKA_ACKS", "1", "PATH", "/bin"), Map.of());
        assertThat(s.service().bootstrapServers()).isEqualTo("k:1");
        assertThat(s.service().topicReplicationFactor()).isEqualTo((short) 3);
        assertThat(s.http().port()).isZero();
        assertThat(s.service().kafka()).as("kafka.* keys are Kafka's names: not from the environment").isEmpty();
    }

    @Test
    void theTokenComesFromTheEnvironmentOnlyWhenNoFlagOrKeyGivesIt() {
        Map<String, String> env = Map.of(HttpSettings.TOKEN_ENV, "from-env");
        assertThat(ServiceSettings.resolve(file(), env, Map.of()).http().token()).isEqualTo("from-env");
        assertThat(ServiceSettings.resolve(file("http.token", "from-file"), env, Map.of()).http().token())
                .isEqualTo("from-file");
        assertThat(ServiceSettings.resolve(file(), env, Map.of("http.token", "flag")).http().token())
                .isEqualTo("flag");
        assertThat(ServiceSettings.resolve(file(), Map.of(HttpSettings.TOKEN_ENV, ""), Map.of()).http().token())
                .isNull();
    }

    @Test
    void kafkaKeysArePassedThroughWithoutTheirPrefixFlagsOverTheFile() {
        ServiceConfig c = ServiceSettings.resolve(
                file("kafka.security.protocol", "SASL_SSL", "kafka.commit.interval.ms", "100"), Map.of(),
                Map.of("kafka.commit.interval.ms", "200")).service();
        assertThat(c.kafka()).containsExactlyInAnyOrderEntriesOf(
                Map.of("security.protocol", "SASL_SSL", "commit.interval.ms", "200"));
    }

    @Test
    void anUnknownKeyIsAnErrorThatNamesIt() {
        assertThatThrownBy(() -> fromFile("mining.margn", "0.3")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown configuration keys [mining.margn]");
        assertThatThrownBy(() -> fromFile("http.tokn", "x")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown configuration keys [http.tokn]");
    }

    @Test
    void aWrongValueIsAnErrorThatNamesTheKey() {
        assertThatThrownBy(() -> fromFile("mining.margin", "wide")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("mining.margin").hasMessageContaining("wide");
        assertThatThrownBy(() -> fromFile("mining.margin", "-1")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("mining.margin must be a finite number >= 0");
        assertThatThrownBy(() -> fromFile("mining.strategy", "hardest")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("mining.strategy").hasMessageContaining("unknown strategy 'hardest'");
        assertThatThrownBy(() -> fromFile("topics.replication-factor", "0")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("topics.replication-factor");
        assertThatThrownBy(() -> fromFile("stats.window", "ten")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("stats.window must be a duration");
        assertThatThrownBy(() -> fromFile("stats.window", "0s")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("stats.window").hasMessageContaining("must be > 0");
        assertThatThrownBy(() -> fromFile("memory.keep-warm", "-1s")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("memory.keep-warm must be >= 0");
        assertThatThrownBy(() -> fromFile("memory.keep-warm", "warm")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("memory.keep-warm must be a duration");
        assertThatThrownBy(() -> fromFile("processing.guarantee", "exactly_once")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("processing.guarantee");
        assertThatThrownBy(() -> fromFile("http.port", "-1")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("http.port");
        assertThatThrownBy(() -> ServiceSettings.resolve(Map.of("schema.registry.url", "mock://x"), Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("bootstrap.servers");
    }
}
