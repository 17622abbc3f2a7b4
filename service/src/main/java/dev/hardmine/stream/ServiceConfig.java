package dev.hardmine.stream;

import dev.hardmine.client.Topics;
import dev.hardmine.mining.Distance;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MemorySampling;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.NeighborSettings;
import dev.hardmine.mining.Strategy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;

/**
 * Everything the service needs to run, built once from its settings and validated at the edge:
 * a wrong value is a {@link ConfigException} that names the key.
 *
 * <p>Each key is declared once, in {@link #CONFIG}, with its type, default, validator and
 * documentation; the user guide's tables and the flags' help are written from it. Every
 * {@code kafka.*} key is passed to the Kafka clients and Kafka Streams without the prefix
 * (security settings included).
 */
public record ServiceConfig(
        String applicationId,
        String bootstrapServers,
        String schemaRegistryUrl,
        Topics topics,
        int topicPartitions,
        short topicReplicationFactor,
        MiningSettings mining,
        MemoryLimits memory,
        NeighborSettings neighbors,
        long memoryMaxBytes,
        Duration memoryKeepWarm,
        InputLimits inputLimits,
        int shardsPerJob,
        Duration statsWindow,
        String processingGuarantee,
        Map<String, String> kafka) {

    public static final String DEFAULT_PREFIX = "hardmine.";
    public static final long DEFAULT_MEMORY_MAX_BYTES = 512L * 1024 * 1024;
    /** {@code memory.keep-warm} unless set. */
    public static final String DEFAULT_MEMORY_KEEP_WARM = "200ms";
    /** Keys under this prefix go to the Kafka clients and Kafka Streams without it. */
    public static final String KAFKA_PREFIX = "kafka.";

    /**
     * The keys a job may also set for itself in its JobConfig (a field of the same name in snake
     * case): how it is mined, how much memory it keeps, its shards and its neighbours.
     */
    public static final ConfigDef JOB = new ConfigDef()
            .define("mining.strategy", Type.STRING, MiningSettings.DEFAULT_STRATEGY.id(), parsedBy(Strategy::fromId),
                    Importance.HIGH, "The strategy: batch-hard, hard, semi-hard, easy, all, n-pair or distance-weighted")
            .define("mining.margin", Type.DOUBLE, decimal(MiningSettings.DEFAULT_MARGIN), Importance.HIGH,
                    "Triplet margin, >= 0")
            .define("mining.distance", Type.STRING, MiningSettings.DEFAULT_DISTANCE.id(), parsedBy(Distance::fromId),
                    Importance.HIGH, "The distance: euclidean, squared-euclidean or cosine")
            .define("mining.normalize", Type.BOOLEAN, MiningSettings.defaults().normalize(), Importance.MEDIUM,
                    "L2-normalise embeddings on ingestion")
            .define("mining.max-per-anchor", Type.INT, MiningSettings.defaults().maxPerAnchor(), Importance.MEDIUM,
                    "At most N triplets per anchor, smallest gap first; 0 = all")
            .define("mining.negatives-per-anchor", Type.INT, MiningSettings.DEFAULT_NEGATIVES_PER_ANCHOR,
                    Importance.LOW, "For n-pair: the nearest other identities per anchor")
            .define("mining.seed", Type.LONG, MiningSettings.defaults().seed(), Importance.LOW,
                    "Seed of the distance-weighted sampler")
            .define("memory.per-identity", Type.INT, MemoryLimits.DEFAULT_PER_IDENTITY, Importance.HIGH,
                    "Newest samples kept per label; 0 = no limit")
            .define("memory.max-embeddings", Type.INT, MemoryLimits.DEFAULT_MAX_EMBEDDINGS, Importance.HIGH,
                    "Samples kept per job, oldest evicted first; 0 = no limit")
            .define("memory.max-age-steps", Type.LONG, MemoryLimits.defaults().maxAgeSteps(), Importance.MEDIUM,
                    "Evict samples more than N steps behind the newest; 0 = no limit")
            .define("mining.memory-negatives", Type.INT, MemorySampling.NONE.negatives(), Importance.MEDIUM,
                    "Send back with each mined batch the N nearest memory negatives of every anchor; 0 = none")
            .define("mining.memory-positives", Type.INT, MemorySampling.NONE.positives(), Importance.MEDIUM,
                    "Send back with each mined batch the N farthest memory positives of every anchor; 0 = none")
            .define("mining.memory-samples-max-bytes", Type.INT, MemorySampling.DEFAULT_MAX_BYTES, Importance.LOW,
                    "Bound on the memory samples sent back with one mined batch, in bytes")
            .define("neighbors.per-identity", Type.INT, NeighborSettings.OFF.perIdentity(), Importance.MEDIUM,
                    "Keep and publish the N identities most confusable with each identity; 0 = off (the demo: 8)")
            .define("neighbors.half-life-steps", Type.DOUBLE, NeighborSettings.DEFAULT_HALF_LIFE_STEPS,
                    Importance.LOW, "Training steps after which a confusion event counts half")
            .define("shards.per-job", Type.INT, 1, Range.atLeast(1), Importance.MEDIUM,
                    "Identity shards per job: > 1 splits each job's identities over that many shards");

    /** Every key of the service: the job keys, then where it runs and what it reads and writes. */
    public static final ConfigDef CONFIG = new ConfigDef(JOB)
            .define("bootstrap.servers", Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(),
                    Importance.HIGH, "Kafka's bootstrap servers, `host:port,…`")
            .define("schema.registry.url", Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(),
                    Importance.HIGH, "The schema registry: `http(s)://…` or `mock://NAME` (in-process)")
            .define("application.id", Type.STRING, "hardmine", new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Kafka Streams application id: instances with the same id share the work")
            .define("topics.prefix", Type.STRING, DEFAULT_PREFIX, Importance.MEDIUM,
                    "Prefix of the default topic names")
            .define("topics.embeddings", Type.STRING, null, Importance.LOW,
                    "The topic trainers publish to, if not `<prefix>embeddings`")
            .define("topics.mined", Type.STRING, null, Importance.LOW,
                    "The topic of the mined batches, if not `<prefix>mined`")
            .define("topics.stats", Type.STRING, null, Importance.LOW,
                    "The topic of the statistics per job and window, if not `<prefix>stats`")
            .define("topics.dlq", Type.STRING, null, Importance.LOW, "The dead-letter topic, if not `<prefix>dlq`")
            .define("topics.jobs", Type.STRING, null, Importance.LOW, "The topic of the per-job settings, if not `<prefix>jobs`")
            .define("topics.neighbors", Type.STRING, null, Importance.LOW,
                    "The topic of the hard-identity neighbours, if not `<prefix>neighbors`")
            .define("topics.partitions", Type.INT, 6, Range.atLeast(1), Importance.MEDIUM,
                    "Partitions of the topics hardmine creates")
            .define("topics.replication-factor", Type.SHORT, (short) -1, ServiceConfig::checkReplicationFactor,
                    Importance.MEDIUM, "Replication of the topics hardmine creates; -1 = the broker's default")
            .define("memory.max-bytes", Type.LONG, DEFAULT_MEMORY_MAX_BYTES, Range.atLeast(0), Importance.MEDIUM,
                    "Memory budget per job (per shard): oldest entries leave while their charge is over it (each its float "
                            + "row twice, 256 bytes of indexes, 4 bytes per character of sample id and label; the "
                            + "`hardmine_memory_bytes` gauge); 0 = no limit")
            .define("memory.keep-warm", Type.STRING, DEFAULT_MEMORY_KEEP_WARM, ServiceConfig::checkKeepWarm,
                    Importance.LOW, "From 8 ms after each batch, read the job's memory and the scores its step wrote "
                            + "every 2 ms, until this long after the batch or the next batch of any job, so that the job's "
                            + "next step finds them in the CPU's caches (one job at a time, at most 32 MiB); 0 = never")
            .define("limits.max-batch-size", Type.INT, InputLimits.DEFAULT_MAX_BATCH_SIZE, Importance.LOW,
                    "Samples per batch; larger batches are bad input")
            .define("limits.max-dim", Type.INT, InputLimits.DEFAULT_MAX_DIM, Importance.LOW,
                    "Embedding dimension; larger ones are bad input")
            .define("limits.max-id-length", Type.INT, InputLimits.DEFAULT_MAX_ID_LENGTH, Importance.LOW,
                    "Characters in a job, worker, batch or sample id or a label; longer ones are bad input")
            .define("stats.window", Type.STRING, "10s", ServiceConfig::checkDuration, Importance.MEDIUM,
                    "Tumbling window of the stats topic, e.g. `500ms`, `10s`, `5m` or `PT10S`")
            .define("processing.guarantee", Type.STRING, "exactly_once_v2",
                    ValidString.in("exactly_once_v2", "at_least_once"), Importance.MEDIUM,
                    "Kafka Streams' guarantee: `exactly_once_v2` or `at_least_once`");

    public ServiceConfig {
        kafka = Map.copyOf(kafka);
    }

    /**
     * Builds the configuration from properties; unknown keys outside {@code kafka.*} are an error
     * (a typo should not silently fall back to a default), and a key with an empty value takes its
     * default.
     *
     * @throws ConfigException naming the key whose value is missing or wrong
     */
    public static ServiceConfig fromProperties(Properties p) {
        Map<String, String> settings = new LinkedHashMap<>();
        p.stringPropertyNames().forEach(key -> settings.put(key, p.getProperty(key)));
        return from(settings);
    }

    /** As {@link #fromProperties}, from a map of keys to values. */
    public static ServiceConfig from(Map<String, String> settings) {
        Map<String, String> given = given(settings);
        Set<String> unknown = new TreeSet<>(given.keySet());
        unknown.removeIf(key -> CONFIG.names().contains(key) || key.startsWith(KAFKA_PREFIX));
        if (!unknown.isEmpty()) {
            throw new ConfigException("unknown configuration keys " + unknown
                    + " (Kafka client settings take the prefix " + KAFKA_PREFIX + ")");
        }
        AbstractConfig v = new AbstractConfig(CONFIG, given, false);
        String prefix = v.getString("topics.prefix");
        Function<String, String> topic = name -> {
            String named = v.getString("topics." + name);
            return named == null ? prefix + name : named;
        };
        Topics topics = new Topics(topic.apply("embeddings"), topic.apply("mined"), topic.apply("stats"),
                topic.apply("dlq"), topic.apply("jobs"), topic.apply("neighbors"));
        Map<String, String> kafka = new LinkedHashMap<>();
        v.originalsWithPrefix(KAFKA_PREFIX).forEach((key, value) -> kafka.put(key, (String) value));
        JobSettings job = job(v);
        return domain(() -> new ServiceConfig(
                v.getString("application.id"),
                v.getString("bootstrap.servers"),
                v.getString("schema.registry.url"),
                topics,
                v.getInt("topics.partitions"),
                v.getShort("topics.replication-factor"),
                job.mining(),
                job.memory(),
                job.neighbors(),
                v.getLong("memory.max-bytes"),
                keepWarm(v.getString("memory.keep-warm")),
                new InputLimits(v.getInt("limits.max-batch-size"), v.getInt("limits.max-dim"),
                        v.getInt("limits.max-id-length")),
                job.shards(),
                parseDuration("stats.window", v.getString("stats.window")),
                v.getString("processing.guarantee"),
                kafka));
    }

    /**
     * The {@link #JOB} keys of {@code settings}, defaults for those missing: what a job gets when its
     * JobConfig says nothing. Other keys are ignored.
     *
     * @throws ConfigException naming the key whose value is wrong
     */
    public static JobSettings jobDefaults(Map<String, String> settings) {
        return job(new AbstractConfig(JOB, given(settings), false));
    }

    private static JobSettings job(AbstractConfig v) {
        return domain(() -> new JobSettings(
                new MiningSettings(
                        Strategy.fromId(v.getString("mining.strategy")),
                        v.getDouble("mining.margin").floatValue(),
                        Distance.fromId(v.getString("mining.distance")),
                        v.getBoolean("mining.normalize"),
                        v.getInt("mining.max-per-anchor"),
                        v.getInt("mining.negatives-per-anchor"),
                        v.getLong("mining.seed"),
                        new MemorySampling(
                                v.getInt("mining.memory-negatives"),
                                v.getInt("mining.memory-positives"),
                                v.getInt("mining.memory-samples-max-bytes"))),
                new MemoryLimits(
                        v.getInt("memory.per-identity"),
                        v.getInt("memory.max-embeddings"),
                        v.getLong("memory.max-age-steps")),
                v.getInt("shards.per-job"),
                new NeighborSettings(
                        v.getInt("neighbors.per-identity"),
                        v.getDouble("neighbors.half-life-steps"))));
    }

    /** This configuration with another job default: mining, memory, shards and neighbours. */
    public ServiceConfig withJob(JobSettings job) {
        return new ServiceConfig(applicationId, bootstrapServers, schemaRegistryUrl, topics, topicPartitions,
                topicReplicationFactor, job.mining(), job.memory(), job.neighbors(), memoryMaxBytes, memoryKeepWarm,
                inputLimits, job.shards(), statsWindow, processingGuarantee, kafka);
    }

    /** This configuration with the Kafka setting {@code key} (without its prefix) set, unless it is already. */
    public ServiceConfig withKafkaDefault(String key, String value) {
        if (kafka.containsKey(key)) {
            return this;
        }
        Map<String, String> more = new LinkedHashMap<>(kafka);
        more.put(key, value);
        return new ServiceConfig(applicationId, bootstrapServers, schemaRegistryUrl, topics, topicPartitions,
                topicReplicationFactor, mining, memory, neighbors, memoryMaxBytes, memoryKeepWarm, inputLimits,
                shardsPerJob, statsWindow, processingGuarantee, more);
    }

    /** The settings whose value is not empty: an empty value means the default, as if the key were absent. */
    private static Map<String, String> given(Map<String, String> settings) {
        Map<String, String> given = new LinkedHashMap<>();
        settings.forEach((key, value) -> {
            if (value != null && !value.isBlank()) {
                given.put(key, value);
            }
        });
        return given;
    }

    /**
     * Builds a domain value, whose own checks (shared with JobConfig) name the key in their
     * messages, and reports a failed check as the configuration error it is.
     */
    private static <T> T domain(Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /** A validator that accepts what {@code parse} accepts, e.g. {@link Strategy#fromId}. */
    private static ConfigDef.Validator parsedBy(Function<String, ?> parse) {
        return (name, value) -> {
            try {
                parse.apply((String) value);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(name, value, e.getMessage());
            }
        };
    }

    /** The decimal a float default was written as (0.2f is 0.2, not 0.20000000298…). */
    private static double decimal(float f) {
        return Double.parseDouble(Float.toString(f));
    }

    private static void checkReplicationFactor(String name, Object value) {
        short v = (Short) value;
        if (v != -1 && v < 1) {
            throw new ConfigException(name, value, "must be >= 1, or -1 for the broker's default");
        }
    }

    private static void checkDuration(String name, Object value) {
        Duration d;
        try {
            d = parseDuration(name, ((String) value).trim());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(name, value, e.getMessage());
        }
        if (d.isNegative() || d.isZero()) {
            throw new ConfigException(name, value, "must be > 0");
        }
    }

    private static void checkKeepWarm(String name, Object value) {
        try {
            keepWarm((String) value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(name, value, e.getMessage());
        }
    }

    /** {@code memory.keep-warm}: a duration, {@code 0} alone standing for none. */
    private static Duration keepWarm(String value) {
        if (value.trim().equals("0")) {
            return Duration.ZERO;
        }
        Duration d = parseDuration("memory.keep-warm", value);
        if (d.isNegative()) {
            throw new IllegalArgumentException("memory.keep-warm must be >= 0, got '" + value + "'");
        }
        return d;
    }

    /**
     * Whether the value of a Kafka client or broker property is a secret: a password, a JAAS
     * configuration (which holds one), a PEM private key, an OAuth client secret.
     */
    public static boolean isSecretKey(String key) {
        return key.endsWith("password") || key.endsWith("sasl.jaas.config") || key.endsWith("ssl.keystore.key")
                || key.contains("secret");
    }

    /** The Kafka properties with every secret's value replaced by {@code [hidden]}, for messages and logs. */
    public static Map<String, String> withoutSecrets(Map<String, String> properties) {
        Map<String, String> shown = new TreeMap<>();
        properties.forEach((key, value) -> shown.put(key, isSecretKey(key) ? "[hidden]" : value));
        return shown;
    }

    /** Every setting, the secrets among the Kafka properties hidden: safe for a log line. */
    @Override
    public String toString() {
        return "ServiceConfig[applicationId=" + applicationId + ", bootstrapServers=" + bootstrapServers
                + ", schemaRegistryUrl=" + schemaRegistryUrl + ", topics=" + topics + ", topicPartitions=" + topicPartitions
                + ", topicReplicationFactor=" + topicReplicationFactor + ", mining=" + mining + ", memory=" + memory
                + ", neighbors=" + neighbors + ", memoryMaxBytes=" + memoryMaxBytes + ", memoryKeepWarm=" + memoryKeepWarm
                + ", inputLimits=" + inputLimits + ", shardsPerJob=" + shardsPerJob + ", statsWindow=" + statsWindow
                + ", processingGuarantee=" + processingGuarantee + ", kafka=" + withoutSecrets(kafka) + "]";
    }

    /** {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, or ISO-8601 ({@code PT10S}). */
    public static Duration parseDuration(String key, String v) {
        String t = v.trim();
        try {
            if (t.startsWith("P") || t.startsWith("p")) {
                return Duration.parse(t);
            }
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            long n = Long.parseLong(t.substring(0, t.length() - 1));
            switch (t.charAt(t.length() - 1)) {
                case 's':
                    return Duration.ofSeconds(n);
                case 'm':
                    return Duration.ofMinutes(n);
                case 'h':
                    return Duration.ofHours(n);
                default:
                    break;
            }
        } catch (RuntimeException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException(key + " must be a duration such as 500ms, 10s, 5m or PT10S, got '" + v + "'");
    }
}
