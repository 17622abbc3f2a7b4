package dev.hardmine.stream;

import dev.hardmine.avro.JobConfig;
import dev.hardmine.registry.WireFormatException;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A processor's view of each job's effective settings: the service's, with the job's JobConfig
 * from the global jobs table. The table takes no JobConfig the service rejects ({@link JobConfigTable}:
 * a dead letter), but one it took may be rejected later, by a service started with other settings,
 * and one written by an earlier release was never checked: such a JobConfig is logged once and
 * ignored (the defaults apply).
 *
 * <p>So is a value in the table that does not decode. The table only takes JobConfigs that decoded
 * ({@link JobConfigTable}), but releases before it copied the jobs topic's bytes into the table when
 * they restored it, and an instance upgraded in place keeps what they wrote until the job's next
 * JobConfig (or a new state directory).
 */
final class JobSettingsSource {
    private static final Logger LOG = LoggerFactory.getLogger(JobSettingsSource.class);

    private final ServiceConfig config;
    private final ReadOnlyKeyValueStore<String, ValueAndTimestamp<JobConfig>> jobConfigs;
    private final Map<String, JobConfig> rejected = new HashMap<>();
    private final Map<String, String> undecodable = new HashMap<>();

    JobSettingsSource(ServiceConfig config, ProcessorContext<?, ?> context) {
        this.config = config;
        this.jobConfigs = context.getStateStore(MiningTopology.JOB_CONFIG_STORE);
    }

    JobSettings of(String jobId) {
        JobConfig overrides = jobConfig(jobId);
        try {
            return JobSettings.resolve(config, overrides);
        } catch (IllegalArgumentException e) {
            if (!overrides.equals(rejected.put(jobId, overrides))) {
                LOG.warn("ignoring the JobConfig of job {}: {}", jobId, e.getMessage());
            }
            return JobSettings.resolve(config, null);
        }
    }

    /** The job's JobConfig from the jobs table; null when it has none, or one that does not decode (logged once). */
    JobConfig jobConfig(String jobId) {
        try {
            ValueAndTimestamp<JobConfig> stored = jobConfigs.get(jobId);
            undecodable.remove(jobId);
            return stored == null ? null : stored.value();
        } catch (WireFormatException e) {
            if (!e.getMessage().equals(undecodable.put(jobId, e.getMessage()))) {
                LOG.warn("ignoring the JobConfig of job {} in the jobs table, which does not decode ({}): the job "
                        + "mines with the service's settings until its next JobConfig", jobId, e.getMessage());
            }
            return null;
        }
    }
}
