package dev.hardmine.stream;

import dev.hardmine.avro.JobConfig;
import dev.hardmine.mining.InvalidBatchException;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the jobs table ({@link MiningTopology#JOB_CONFIG_STORE}), a global store: each JobConfig
 * read from the jobs topic under its job id, a tombstone removes it.
 *
 * <p>A global store of its own rather than a global KTable, because Kafka Streams restores a
 * global KTable by copying the topic's bytes into the store: the JobConfigs published while the
 * service was stopped would skip the deserializer — a bad one would sit in the table and fail
 * every batch of its job, one of a writer schema not fetched yet would have the stream threads wait
 * for the registry. A global store with a processor is restored through the source's deserializer
 * ({@link AwaitingSchema}) and this processor, like the records read while it runs, so the table
 * only ever holds JobConfigs that decoded, written with the service's own schema.
 *
 * <p>A JobConfig that decodes but violates the contract — keyed by another id than its job_id, or
 * with an override the service rejects ({@link JobSettings#with}) — removes the job's entry, so
 * that the job mines with the service's settings until its next valid JobConfig (as a read of the
 * compacted topic from its start would leave it), and is thrown as an
 * {@link InvalidJobConfigException}, which the processing-exception handler makes a dead letter.
 */
final class JobConfigTable implements Processor<String, JobConfig, Void, Void> {
    private static final Logger LOG = LoggerFactory.getLogger(JobConfigTable.class);

    private final ServiceConfig config;
    private TimestampedKeyValueStore<String, JobConfig> store;

    JobConfigTable(ServiceConfig config) {
        this.config = config;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(MiningTopology.JOB_CONFIG_STORE);
    }

    @Override
    public void process(Record<String, JobConfig> record) {
        if (record.key() == null) {
            // As a global KTable does (Kafka Streams' restore skips such records before they get here).
            LOG.warn("ignoring a JobConfig without a key (the key is its job id): {}", record.value());
            return;
        }
        if (record.value() == null) {
            store.delete(record.key());
            return;
        }
        InvalidJobConfigException invalid = invalid(record.key(), record.value());
        if (invalid != null) {
            store.delete(record.key());
            throw invalid;
        }
        store.put(record.key(), ValueAndTimestamp.make(record.value(), record.timestamp()));
    }

    private InvalidJobConfigException invalid(String key, JobConfig value) {
        if (!key.equals(value.getJobId())) {
            return new InvalidJobConfigException(InvalidBatchException.KEY_MISMATCH,
                    EmbeddingBatches.keyMismatch(key, value.getJobId()));
        }
        try {
            JobSettings.resolve(config, value);
            return null;
        } catch (IllegalArgumentException e) {
            return new InvalidJobConfigException(InvalidJobConfigException.INVALID,
                    "the JobConfig of job " + key + " is not valid: " + e.getMessage());
        }
    }
}
