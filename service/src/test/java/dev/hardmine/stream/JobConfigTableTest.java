package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardmine.avro.JobConfig;
import dev.hardmine.registry.AvroSerde;
import dev.hardmine.registry.MockSchemaRegistry;
import dev.hardmine.registry.SerdeConfig;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The jobs table takes the JobConfigs the service accepts, and removes the job's entry on one it rejects. */
class JobConfigTableTest {
    private final String scope = "job-config-table-" + UUID.randomUUID();
    private TimestampedKeyValueStore<String, JobConfig> store;
    private JobConfigTable table;

    @BeforeEach
    void table() {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", "127.0.0.1:9");
        p.setProperty("schema.registry.url", "mock://" + scope);
        MockProcessorContext<Void, Void> context = new MockProcessorContext<>();
        store = Stores.timestampedKeyValueStoreBuilder(Stores.inMemoryKeyValueStore(MiningTopology.JOB_CONFIG_STORE),
                        Serdes.String(), new AvroSerde<>(JobConfig.class, MockSchemaRegistry.scope(scope),
                                SerdeConfig.of("mock://" + scope), false))
                .withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
        table = new JobConfigTable(ServiceConfig.fromProperties(p));
        table.init(context);
    }

    @AfterEach
    void dropScope() {
        MockSchemaRegistry.dropScope(scope);
    }

    private static JobConfig margin(String job, float margin) {
        return JobConfig.newBuilder().setJobId(job).setMargin(margin).build();
    }

    @Test
    void aValidJobConfigIsTheJobsEntryWithItsTimestampAndATombstoneRemovesIt() {
        table.process(new Record<>("job", margin("job", 0.3f), 17L));
        assertThat(store.get("job")).isEqualTo(ValueAndTimestamp.make(margin("job", 0.3f), 17L));
        table.process(new Record<>("job", (JobConfig) null, 18L));
        assertThat(store.get("job")).isNull();
    }

    @Test
    void anOverrideTheServiceRejectsRemovesTheJobsEntryAndIsThrownWithItsReason() {
        table.process(new Record<>("job", margin("job", 0.3f), 1L));
        table.process(new Record<>("other", margin("other", 0.4f), 1L));
        assertThatThrownBy(() -> table.process(new Record<>("job", margin("job", -1f), 2L)))
                .isInstanceOfSatisfying(InvalidJobConfigException.class,
                        e -> assertThat(e.reason()).isEqualTo(InvalidJobConfigException.INVALID))
                .hasMessageContaining("job job").hasMessageContaining("mining.margin");
        assertThat(store.get("job")).as("the rejected job's entry").isNull();
        assertThat(store.get("other").value()).as("another job's").isEqualTo(margin("other", 0.4f));
        assertThat(DeadLetters.reasonOf(new RuntimeException(new InvalidJobConfigException("x", "y")), "fallback"))
                .isEqualTo("x");
    }

    @Test
    void aJobConfigKeyedByAnotherJobIsAKeyMismatchAndRemovesTheEntryOfItsKey() {
        table.process(new Record<>("job", margin("job", 0.3f), 1L));
        assertThatThrownBy(() -> table.process(new Record<>("job", margin("other", 0.4f), 2L)))
                .isInstanceOfSatisfying(InvalidJobConfigException.class,
                        e -> assertThat(e.reason()).isEqualTo("key-mismatch"))
                .hasMessage("the record's key 'job' is not the job_id 'other'");
        assertThat(store.get("job")).isNull();
        assertThat(store.get("other")).as("nothing under the job_id either").isNull();
    }

    @Test
    void aJobConfigWithoutAKeyIsIgnoredAsAGlobalTableIgnoresIt() {
        table.process(new Record<>(null, margin("job", 0.3f), 1L));
        assertThat(store.approximateNumEntries()).isZero();
    }
}
