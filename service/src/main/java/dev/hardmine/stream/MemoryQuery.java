package dev.hardmine.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
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
 *
 * <p>While tasks move between instances (an instance added, stopped or failed), a job's partition
 * may be nowhere queryable for a moment. So that an answer never leaves a part out unnoticed,
 * {@link #localPart} says which partitions it read: an answer is complete when the instances'
 * answers together read every partition.
 */
public final class MemoryQuery {
    /**
     * This instance's part of a job's memory.
     *
     * @param summary    the part, null when the partitions read hold none of the job
     * @param partitions the partitions read, null when not known (nothing can be checked then)
     */
    public record LocalPart(MemorySummary summary, Set<Integer> partitions) {
    }

    private final KafkaStreams streams;
    private final HostInfo self;
    private final int partitions;

    /**
     * @param self       this instance's {@code application.server}, or null when it has none
     * @param partitions partitions of the embeddings topic, the tasks a memory may live in
     */
    public MemoryQuery(KafkaStreams streams, HostInfo self, int partitions) {
        this.streams = streams;
        this.self = self;
        this.partitions = partitions;
    }

    /** Partitions of the embeddings topic: the tasks a memory may live in. */
    public int partitions() {
        return partitions;
    }

    /**
     * This instance's part of the job's memory, read partition by partition from the active tasks
     * it can query now; a partition it does not host, or cannot read at the moment (restoring,
     * handed over in a rebalance), is not among the partitions read. Never throws for that.
     */
    public LocalPart localPart(String jobId) {
        MemorySummary total = null;
        Set<Integer> read = new TreeSet<>();
        for (int p = 0; p < partitions; p++) {
            MemorySummary part;
            try {
                part = MemoryStore.summarize(streams.store(StoreQueryParameters.fromNameAndType(MemoryStore.NAME,
                        QueryableStoreTypes.<Bytes, byte[]>keyValueStore()).withPartition(p)), jobId);
            } catch (InvalidStateStoreException notHereNow) {
                continue;
            }
            read.add(p);
            if (part != null) {
                total = total == null ? part : total.plus(part);
            }
        }
        return new LocalPart(total, read);
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
