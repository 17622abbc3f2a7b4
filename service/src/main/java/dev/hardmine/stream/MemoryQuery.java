package dev.hardmine.stream;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Reads jobs' memories through Kafka Streams interactive queries. A job's memory lives in the
 * task of its partition (with identity sharding, one task per shard), so it may be on another
 * instance: {@link #local} answers for this instance's active tasks, {@link #otherInstances}
 * names the instances to ask for the rest (their {@code application.server}). Asking every
 * instance rather than the one the key hashes to keeps the answer right whatever partitioner the
 * trainers' producers use.
 */
public final class MemoryQuery {
    private final KafkaStreams streams;
    private final HostInfo self;

    /** @param self this instance's {@code application.server}, or null when it has none */
    public MemoryQuery(KafkaStreams streams, HostInfo self) {
        this.streams = streams;
        this.self = self;
    }

    /**
     * This instance's part of the job's memory, or null when it holds none.
     *
     * @throws org.apache.kafka.streams.errors.InvalidStateStoreException while the store is not
     *     queryable (Kafka Streams starting or rebalancing)
     */
    public MemorySummary local(String jobId) {
        ReadOnlyKeyValueStore<Bytes, byte[]> store = streams.store(
                StoreQueryParameters.fromNameAndType(MemoryStore.NAME, QueryableStoreTypes.keyValueStore()));
        return MemoryStore.summarize(store, jobId);
    }

    /** The other instances of the application that host memory tasks. */
    public List<HostInfo> otherInstances() {
        List<HostInfo> out = new ArrayList<>();
        if (self == null) {
            return out;
        }
        for (StreamsMetadata m : streams.streamsMetadataForStore(MemoryStore.NAME)) {
            HostInfo host = m.hostInfo();
            if (!host.equals(self) && host.port() > 0) {
                out.add(host);
            }
        }
        return out;
    }
}
