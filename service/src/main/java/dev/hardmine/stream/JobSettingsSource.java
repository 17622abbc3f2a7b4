package dev.hardmine.stream;

import dev.hardmine.avro.JobConfig;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A processor's view of each job's effective settings: the service's, with the job's JobConfig
 * from the global jobs table. An invalid JobConfig is logged once and ignored (the defaults apply).
 */
final class JobSettingsSource {
    private static final Logger LOG = LoggerFactory.getLogger(JobSettingsSource.class);

    private final ServiceConfig config;
    private final ReadOnlyKeyValueStore<String, ValueAndTimestamp<JobConfig>> jobConfigs;
    private final Map<String, JobConfig> rejected = new HashMap<>();

    JobSettingsSource(ServiceConfig config, ProcessorContext<?, ?> context) {
        this.config = config;
        this.jobConfigs = context.getStateStore(MiningTopology.JOB_CONFIG_STORE);
    }

    JobSettings of(String jobId) {
        ValueAndTimestamp<JobConfig> stored = jobConfigs.get(jobId);
        JobConfig overrides = stored == null ? null : stored.value();
        try {
            return JobSettings.resolve(config, overrides);
        } catch (IllegalArgumentException e) {
            if (!overrides.equals(rejected.put(jobId, overrides))) {
                LOG.warn("ignoring the JobConfig of job {}: {}", jobId, e.getMessage());
            }
            return JobSettings.resolve(config, null);
        }
    }
}
