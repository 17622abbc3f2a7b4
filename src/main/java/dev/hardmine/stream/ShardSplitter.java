package dev.hardmine.stream;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.Sample;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * Identity sharding: splits each batch by {@code hash(label) % shards} into sub-batches keyed
 * {@code job_id#shard}, so that a large job's memory and mining spread over partitions. Every
 * identity lives in exactly one shard (String.hashCode is fixed by the Java language, so the
 * split is the same on every instance). Negatives then come from the anchor's shard only.
 */
public final class ShardSplitter implements Processor<String, EmbeddingBatch, String, EmbeddingBatch> {
    private final ServiceConfig config;
    private ProcessorContext<String, EmbeddingBatch> context;
    private ReadOnlyKeyValueStore<String, ValueAndTimestamp<JobConfig>> jobConfigs;

    public ShardSplitter(ServiceConfig config) {
        this.config = config;
    }

    /** The shard of a label. */
    public static int shardOf(String label, int shards) {
        return Math.floorMod(label.hashCode(), shards);
    }

    @Override
    public void init(ProcessorContext<String, EmbeddingBatch> context) {
        this.context = context;
        this.jobConfigs = context.getStateStore(MiningTopology.JOB_CONFIG_STORE);
    }

    @Override
    public void process(Record<String, EmbeddingBatch> record) {
        EmbeddingBatch batch = record.value();
        if (batch == null || batch.getJobId() == null) {
            // Let the miner reject it with its reason; it needs a key to travel.
            context.forward(record.withKey(record.key() == null ? "" : record.key()));
            return;
        }
        int shards = shardsOf(batch.getJobId());
        List<List<Sample>> parts = new ArrayList<>(shards);
        for (int s = 0; s < shards; s++) {
            parts.add(new ArrayList<>());
        }
        for (Sample sample : batch.getSamples()) {
            parts.get(shardOf(sample.getLabel() == null ? "" : sample.getLabel(), shards)).add(sample);
        }
        for (int s = 0; s < shards; s++) {
            if (!parts.get(s).isEmpty()) {
                EmbeddingBatch part = EmbeddingBatch.newBuilder(batch).setSamples(parts.get(s)).build();
                context.forward(record.withKey(batch.getJobId() + "#" + s).withValue(part));
            }
        }
    }

    private int shardsOf(String jobId) {
        ValueAndTimestamp<JobConfig> stored = jobConfigs.get(jobId);
        if (stored != null && stored.value() != null && stored.value().getShards() != null
                && stored.value().getShards() >= 1) {
            return stored.value().getShards();
        }
        return config.shardsPerJob();
    }
}
