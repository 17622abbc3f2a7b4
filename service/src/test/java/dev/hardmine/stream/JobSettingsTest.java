package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardmine.avro.JobConfig;
import dev.hardmine.mining.Distance;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.Strategy;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class JobSettingsTest {
    private static ServiceConfig service(String... keyValues) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", "127.0.0.1:9");
        p.setProperty("schema.registry.url", "mock://job-settings");
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return ServiceConfig.fromProperties(p);
    }

    @Test
    void nullFieldsOfAJobConfigKeepTheServiceDefaults() {
        JobSettings s = JobSettings.resolve(service("mining.margin", "0.3"),
                JobConfig.newBuilder().setJobId("j").setDistance("cosine").build());
        assertThat(s.mining().margin()).isEqualTo(0.3f);
        assertThat(s.mining().distance()).isEqualTo(Distance.COSINE);
        assertThat(s.mining().strategy()).isEqualTo(Strategy.BATCH_HARD);
        assertThat(s.memory()).isEqualTo(MemoryLimits.defaults());
    }

    @Test
    void anInvalidOverrideIsRejectedNamingTheSetting() {
        JobConfig bad = JobConfig.newBuilder().setJobId("j").setMargin(-1f).build();
        assertThatThrownBy(() -> JobSettings.resolve(service(), bad))
                .hasMessageContaining("mining.margin must be a finite number >= 0");
    }

    @Test
    void byteBudgetCapsTheEmbeddingsForTheJobsDimension() {
        // dim 126: each entry costs 2 * 4 * 128 + 256 = 1280 bytes; 1 MiB holds 819 of them.
        JobSettings s = JobSettings.resolve(service("memory.max-embeddings", "65536"), null);
        assertThat(s.boundedBy(1 << 20, 126).maxEmbeddings()).isEqualTo(819);
        assertThat(s.boundedBy(0, 126).maxEmbeddings()).isEqualTo(65536);
        assertThat(s.boundedBy(1L << 40, 126).maxEmbeddings()).isEqualTo(65536);
    }

    @Test
    void byteBudgetAppliesEvenWithoutACountLimit() {
        JobSettings s = JobSettings.resolve(service("memory.max-embeddings", "0"), null);
        assertThat(s.boundedBy(1 << 20, 126).maxEmbeddings()).isEqualTo(819);
    }

    @Test
    void unknownConfigurationKeysAreAnError() {
        assertThatThrownBy(() -> service("mining.marign", "0.3"))
                .hasMessageContaining("unknown configuration keys [mining.marign]");
    }

    @Test
    void kafkaKeysPassThroughWithoutThePrefix() {
        assertThat(service("kafka.security.protocol", "SASL_SSL").kafka()).containsEntry("security.protocol", "SASL_SSL");
    }
}
