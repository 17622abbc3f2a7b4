package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.registry.AvroSerde;
import dev.hardmine.registry.MockSchemaRegistry;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.testing.ExactlyOnce;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The miner's memory is a cache of the memory store: a batch the store fails to take (the
 * processing-exception handler then dead-letters it) must leave both without it, or the job's
 * later batches would be mined against a memory that no restart could bring back.
 */
class MemoryStoreFailureTest {
    private static final MemoryLimits MEMORY = new MemoryLimits(4, 256, 0);
    private static final long MEMORY_MAX_BYTES = 64L << 20;

    private final String scope = "store-failure-" + UUID.randomUUID();

    @AfterEach
    void dropScope() {
        MockSchemaRegistry.dropScope(scope);
    }

    @Test
    void aBatchTheStoreCannotTakeLeavesNoTraceInTheMemory() throws Exception {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", "127.0.0.1:9");
        p.setProperty("schema.registry.url", "mock://" + scope);
        p.setProperty("memory.per-identity", Integer.toString(MEMORY.perIdentity()));
        p.setProperty("memory.max-embeddings", Integer.toString(MEMORY.maxEmbeddings()));
        p.setProperty("memory.max-bytes", Long.toString(MEMORY_MAX_BYTES));
        ServiceConfig config = ServiceConfig.fromProperties(p);

        MockProcessorContext<String, MinedBatch> context = new MockProcessorContext<>();
        KeyValueStore<Bytes, byte[]> memory = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(MemoryStore.NAME),
                Serdes.Bytes(), Serdes.ByteArray()).withLoggingDisabled().build();
        memory.init(context.getStateStoreContext(), memory);
        AtomicBoolean failing = new AtomicBoolean();
        context.addStateStore(failingWhen(failing, memory));
        TimestampedKeyValueStore<String, JobConfig> jobs = Stores.timestampedKeyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(MiningTopology.JOB_CONFIG_STORE), Serdes.String(),
                new AvroSerde<>(JobConfig.class, MockSchemaRegistry.scope(scope), SerdeConfig.of("mock://" + scope), false))
                .withLoggingDisabled().build();
        jobs.init(context.getStateStoreContext(), jobs);
        context.addStateStore(jobs);
        MiningProcessor processor = new MiningProcessor(config, false);
        processor.init(context);

        List<EmbeddingBatch> log = ExactlyOnce.batchesOfJobs(3, 10, 1);
        EmbeddingBatch lost = log.get(4);
        List<EmbeddingBatch> taken = new ArrayList<>();
        for (EmbeddingBatch batch : log) {
            Record<String, EmbeddingBatch> record = new Record<>(batch.getJobId(), batch, 0L);
            if (batch == lost) {
                failing.set(true);
                assertThatThrownBy(() -> processor.process(record)).isInstanceOf(ProcessorStateException.class);
                failing.set(false);
            } else {
                processor.process(record);
                taken.add(batch);
            }
        }
        processor.close();

        Map<String, List<MinedBatch>> mined = new HashMap<>();
        context.forwarded().forEach(f -> mined.computeIfAbsent(ExactlyOnce.key(f.record().value()),
                k -> new ArrayList<>()).add(f.record().value()));
        ExactlyOnce.assertMinedOnceAsReplayed(mined, taken, MEMORY, MEMORY_MAX_BYTES);
    }

    /** The store, whose writes fail while {@code failing} is set, as a disk that is full would. */
    @SuppressWarnings("unchecked")
    private static KeyValueStore<Bytes, byte[]> failingWhen(AtomicBoolean failing, KeyValueStore<Bytes, byte[]> store) {
        return (KeyValueStore<Bytes, byte[]>) Proxy.newProxyInstance(MemoryStoreFailureTest.class.getClassLoader(),
                new Class<?>[] {KeyValueStore.class}, (proxy, method, args) -> {
                    if (failing.get() && List.of("put", "putAll", "delete", "putIfAbsent").contains(method.getName())) {
                        throw new ProcessorStateException("no space left on device");
                    }
                    try {
                        return method.invoke(store, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
