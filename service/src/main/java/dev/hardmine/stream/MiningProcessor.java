package dev.hardmine.stream;

import dev.hardmine.client.Topics;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.mining.InvalidBatchException;
import dev.hardmine.mining.JobMiner;
import dev.hardmine.mining.MemoryBank;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningResult;
import dev.hardmine.mining.SampleBatch;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Mines each job's batches against the job's memory. One instance per stream task; it holds a
 * {@link JobMiner} per job (or per job shard) of its partitions, whose memory matrix is a cache of
 * the task's {@link MemoryStore}, rebuilt from the store the first time a job is seen after the
 * task (re)started or moved.
 *
 * <p>A batch that violates the contract throws {@link InvalidBatchException} before the memory
 * changes; the stream's processing-exception handler turns it into a dead letter. A batch the
 * store cannot take (a failed write: the handler dead-letters it too) leaves neither the store nor
 * the miner changed: the miner is dropped and rebuilt from the store.
 * Output: one MinedBatch per batch, keyed by job_id (the stats window groups by it).
 */
public final class MiningProcessor implements Processor<String, EmbeddingBatch, String, MinedBatch> {
    private final ServiceConfig config;
    private final boolean sharded;
    private final MiningObserver observer;
    private final Map<String, JobMiner> miners = new HashMap<>();
    /** The job of each memory key this processor holds, for {@link MiningObserver#memoryReleased}. */
    private final Map<String, String> jobOfMemory = new HashMap<>();
    private ProcessorContext<String, MinedBatch> context;
    private MemoryStore memory;
    private JobSettingsSource jobSettings;

    /** @param sharded whether record keys are {@code job_id#shard} memory keys (identity sharding) */
    public MiningProcessor(ServiceConfig config, boolean sharded) {
        this(config, sharded, MiningObserver.NONE);
    }

    public MiningProcessor(ServiceConfig config, boolean sharded, MiningObserver observer) {
        this.config = config;
        this.sharded = sharded;
        this.observer = observer;
    }

    @Override
    public void init(ProcessorContext<String, MinedBatch> context) {
        this.context = context;
        this.memory = new MemoryStore(context.getStateStore(MemoryStore.NAME));
        this.jobSettings = new JobSettingsSource(config, context);
    }

    @Override
    public void process(Record<String, EmbeddingBatch> record) {
        EmbeddingBatch batch = record.value();
        if (batch == null) {
            throw new InvalidBatchException(InvalidBatchException.MALFORMED, "record without a value");
        }
        SampleBatch samples = EmbeddingBatches.toSampleBatch(batch, config.inputLimits());
        if (!sharded) { // sharded records come keyed job_id#shard from the ShardSplitter, which checked the key
            EmbeddingBatches.checkKey(record.key(), batch);
        }
        String jobId = batch.getJobId();
        String memoryKey = sharded ? record.key() : jobId;
        JobSettings settings = jobSettings.of(jobId);

        MemoryLimits limits = settings.boundedBy(config.memoryMaxBytes(), samples.dim());
        JobMiner miner = miners.get(memoryKey);
        if (miner == null) {
            miner = new JobMiner(limits, config.memoryKeepWarm());
            MemoryBank restored = memory.load(memoryKey, limits);
            if (restored != null) {
                miner.attach(restored);
            }
            miners.put(memoryKey, miner);
            jobOfMemory.put(memoryKey, jobId);
        }
        miner.setLimits(limits);
        // Rejects a dim other than the job's before the memory changes.
        MiningResult result = miner.mine(samples, settings.mining());

        List<String> ids = new ArrayList<>(samples.size());
        for (int i = 0; i < samples.size(); i++) {
            ids.add(samples.sampleId(i));
        }
        try {
            memory.save(memoryKey, miner.memory(), ids, result.evicted());
        } catch (RuntimeException e) {
            // The miner's memory holds the batch and the store, written all or nothing, does not:
            // drop the miner, so that the job's next batch starts again from the store.
            miners.remove(memoryKey).close();
            throw e;
        }
        MinedBatch mined = MinedBatches.of(batch, result, settings.mining(), Instant.now());
        Headers headers = new RecordHeaders(record.headers().toArray());
        headers.remove(Topics.STEP_HEADER);
        headers.add(Topics.STEP_HEADER, Topics.stepHeader(mined.getStep()));
        context.forward(record.withKey(jobId).withValue(mined).withHeaders(headers));
        observer.batchMined(memoryKey, mined, miner.memory().bytes());
    }

    @Override
    public void close() {
        miners.values().forEach(JobMiner::close);
        miners.clear();
        jobOfMemory.forEach(observer::memoryReleased);
        jobOfMemory.clear();
    }
}
