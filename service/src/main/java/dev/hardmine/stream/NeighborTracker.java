package dev.hardmine.stream;

import dev.hardmine.client.Topics;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.mining.NeighborList;
import dev.hardmine.mining.NeighborSettings;
import java.util.Map;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Keeps each identity's confusable identities from the mined batches of the jobs that ask for
 * them ({@code neighbors.per-identity} &gt; 0) and publishes a label's list each time a batch
 * touches it. Runs in the mining task (a label is always mined in the same shard), so its store
 * needs no repartition.
 */
final class NeighborTracker implements Processor<String, MinedBatch, String, IdentityNeighbors> {
    private final ServiceConfig config;
    private ProcessorContext<String, IdentityNeighbors> context;
    private NeighborStore store;
    private JobSettingsSource jobSettings;

    NeighborTracker(ServiceConfig config) {
        this.config = config;
    }

    @Override
    public void init(ProcessorContext<String, IdentityNeighbors> context) {
        this.context = context;
        this.store = new NeighborStore(context.getStateStore(NeighborStore.NAME));
        this.jobSettings = new JobSettingsSource(config, context);
    }

    @Override
    public void process(Record<String, MinedBatch> record) {
        MinedBatch batch = record.value();
        String job = batch.getJobId();
        NeighborSettings settings = jobSettings.of(job).neighbors();
        if (!settings.enabled()) {
            return;
        }
        Map<String, NeighborList> touched = Neighbors.record(batch, settings, label -> store.load(job, label));
        touched.forEach((label, list) -> {
            store.save(job, label, list);
            context.forward(record.withKey(Topics.neighborsKey(job, label))
                    .withValue(Neighbors.toRecord(job, label, list, settings)));
        });
    }
}
