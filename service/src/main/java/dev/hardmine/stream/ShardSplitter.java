package dev.hardmine.stream;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.Sample;
import dev.hardmine.mining.InvalidBatchException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Identity sharding: splits each batch by {@code hash(label) % shards} into sub-batches keyed
 * {@code job_id#shard}, so that a large job's memory and mining spread over partitions. Every
 * identity lives in exactly one shard (String.hashCode is fixed by the Java language, so the
 * split is the same on every instance). Negatives then come from the anchor's shard only.
 *
 * <p>The whole batch is checked against the contract here, before it is split: a bad batch goes
 * to the dead letters as it was published (original bytes, embeddings topic and offset), and no
 * part of it is mined — checked per shard, a bad sample would reject its shard's part only, and
 * the dead letter would be that part, read from the repartition topic. The job's dim is kept in
 * the {@value MiningTopology#JOB_DIM_STORE} store for the same reason: every shard must see the
 * same answer.
 */
public final class ShardSplitter implements Processor<String, EmbeddingBatch, String, EmbeddingBatch> {
    /** Between job id and shard number in the key of a shard's memory: {@code job_id#shard}. */
    public static final char SEPARATOR = '#';
    static final byte DIM_FORMAT_VERSION = 1;

    private final ServiceConfig config;
    private ProcessorContext<String, EmbeddingBatch> context;
    private KeyValueStore<String, Integer> jobDims;
    private JobSettingsSource jobSettings; // the miner's own reading of the job's settings

    public ShardSplitter(ServiceConfig config) {
        this.config = config;
    }

    /**
     * The {@value MiningTopology#JOB_DIM_STORE} store's values. Format version
     * {@value #DIM_FORMAT_VERSION}: byte 1, then the dim (int); unversioned: the dim alone.
     */
    static Serde<Integer> jobDimSerde() {
        Serializer<Integer> ser = (topic, dim) -> dim == null ? null
                : ByteBuffer.allocate(1 + 4).put(DIM_FORMAT_VERSION).putInt(dim).array();
        Deserializer<Integer> de = (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            ByteBuffer in = ByteBuffer.wrap(bytes);
            StateFormat.read(in, MiningTopology.JOB_DIM_STORE, StateFormat.UNVERSIONED, DIM_FORMAT_VERSION);
            return in.getInt();
        };
        return Serdes.serdeFrom(ser, de);
    }

    /** The shard of a label. */
    public static int shardOf(String label, int shards) {
        return Math.floorMod(label.hashCode(), shards);
    }

    @Override
    public void init(ProcessorContext<String, EmbeddingBatch> context) {
        this.context = context;
        this.jobDims = context.getStateStore(MiningTopology.JOB_DIM_STORE);
        this.jobSettings = new JobSettingsSource(config, context);
    }

    @Override
    public void process(Record<String, EmbeddingBatch> record) {
        EmbeddingBatch batch = record.value();
        if (batch == null) {
            throw new InvalidBatchException(InvalidBatchException.MALFORMED, "record without a value");
        }
        EmbeddingBatches.toSampleBatch(batch, config.inputLimits()).checkScoresFinite(jobSettings.of(batch.getJobId()).mining().normalize());
        EmbeddingBatches.checkKey(record.key(), batch);
        Integer jobDim = jobDims.get(batch.getJobId());
        if (jobDim == null) {
            jobDims.put(batch.getJobId(), batch.getDim());
        } else if (jobDim != batch.getDim()) {
            throw new InvalidBatchException(InvalidBatchException.DIM_MISMATCH,
                    "batch dim " + batch.getDim() + " differs from the job's dim " + jobDim);
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
                context.forward(record.withKey(batch.getJobId() + SEPARATOR + s).withValue(part));
            }
        }
    }

    private int shardsOf(String jobId) {
        JobConfig stored = jobSettings.jobConfig(jobId);
        if (stored != null && stored.getShards() != null && stored.getShards() >= 1) {
            return stored.getShards();
        }
        return config.shardsPerJob();
    }
}
