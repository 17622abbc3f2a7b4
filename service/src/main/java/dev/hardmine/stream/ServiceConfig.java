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
import java.util.TreeSet;

/**
 * Everything the service needs to run, built once from a properties file (and flags that override
 * its keys), validated at the edge with messages that name the key.
 *
 * <p>Keys: {@code application.id}, {@code bootstrap.servers}, {@code schema.registry.url},
 * {@code topics.prefix} and {@code topics.embeddings|mined|stats|dlq|jobs|neighbors} (names, prefixed
 * defaults), {@code topics.partitions}, {@code topics.replication-factor}, the mining and memory
 * keys of docs/DESIGN.md ({@code mining.*}, {@code memory.*}, {@code shards.per-job}), {@code neighbors.*},
 * {@code memory.max-bytes}, {@code limits.max-batch-size}, {@code limits.max-dim},
 * {@code stats.window} (e.g. {@code 10s}), {@code processing.guarantee}. Every {@code kafka.*} key
 * is passed to the Kafka clients and Kafka Streams without the prefix (security settings included).
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
        InputLimits inputLimits,
        int shardsPerJob,
        Duration statsWindow,
        String processingGuarantee,
        Map<String, String> kafka) {

    public static final String DEFAULT_PREFIX = "hardmine.";
    public static final long DEFAULT_MEMORY_MAX_BYTES = 512L * 1024 * 1024;

    private static final Set<String> KNOWN = Set.of(
            "application.id", "bootstrap.servers", "schema.registry.url", "topics.prefix", "topics.embeddings",
            "topics.mined", "topics.stats", "topics.dlq", "topics.jobs", "topics.neighbors", "topics.partitions",
            "topics.replication-factor", "mining.strategy", "mining.margin", "mining.distance", "mining.normalize",
            "mining.max-per-anchor", "mining.negatives-per-anchor", "mining.seed", "mining.memory-negatives",
            "mining.memory-positives", "mining.memory-samples-max-bytes", "neighbors.per-identity",
            "neighbors.half-life-steps", "memory.per-identity",
            "memory.max-embeddings", "memory.max-age-steps", "memory.max-bytes", "shards.per-job",
            "limits.max-batch-size", "limits.max-dim", "stats.window", "processing.guarantee");

    public ServiceConfig {
        require(applicationId != null && !applicationId.isBlank(), "application.id must not be empty");
        require(bootstrapServers != null && !bootstrapServers.isBlank(), "bootstrap.servers is required");
        require(schemaRegistryUrl != null && !schemaRegistryUrl.isBlank(), "schema.registry.url is required");
        require(topicPartitions >= 1, "topics.partitions must be >= 1, got " + topicPartitions);
        require(topicReplicationFactor == -1 || topicReplicationFactor >= 1,
                "topics.replication-factor must be >= 1 (or -1 for the broker's default), got " + topicReplicationFactor);
        require(memoryMaxBytes >= 0, "memory.max-bytes must be >= 0 (0 = no limit), got " + memoryMaxBytes);
        require(shardsPerJob >= 1, "shards.per-job must be >= 1, got " + shardsPerJob);
        require(!statsWindow.isNegative() && !statsWindow.isZero(), "stats.window must be > 0, got " + statsWindow);
        require(Set.of("exactly_once_v2", "at_least_once").contains(processingGuarantee),
                "processing.guarantee must be exactly_once_v2 or at_least_once, got " + processingGuarantee);
        kafka = Map.copyOf(kafka);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * Builds the configuration from properties; unknown keys outside {@code kafka.*} are an error
     * (a typo should not silently fall back to a default).
     */
    public static ServiceConfig fromProperties(Properties p) {
        Set<String> unknown = new TreeSet<>();
        for (String key : p.stringPropertyNames()) {
            if (!KNOWN.contains(key) && !key.startsWith("kafka.")) {
                unknown.add(key);
            }
        }
        require(unknown.isEmpty(), "unknown configuration keys " + unknown
                + " (Kafka client settings take the prefix kafka.)");
        String prefix = p.getProperty("topics.prefix", DEFAULT_PREFIX);
        Topics topics = new Topics(
                p.getProperty("topics.embeddings", prefix + "embeddings"),
                p.getProperty("topics.mined", prefix + "mined"),
                p.getProperty("topics.stats", prefix + "stats"),
                p.getProperty("topics.dlq", prefix + "dlq"),
                p.getProperty("topics.jobs", prefix + "jobs"),
                p.getProperty("topics.neighbors", prefix + "neighbors"));
        Map<String, String> kafka = new LinkedHashMap<>();
        for (String key : p.stringPropertyNames()) {
            if (key.startsWith("kafka.")) {
                kafka.put(key.substring("kafka.".length()), p.getProperty(key));
            }
        }
        try {
            return new ServiceConfig(
                    p.getProperty("application.id", "hardmine"),
                    p.getProperty("bootstrap.servers"),
                    p.getProperty("schema.registry.url"),
                    topics,
                    integer(p, "topics.partitions", 6),
                    (short) integer(p, "topics.replication-factor", -1),
                    miningFrom(p),
                    memoryFrom(p),
                    neighborsFrom(p),
                    longValue(p, "memory.max-bytes", DEFAULT_MEMORY_MAX_BYTES),
                    new InputLimits(integer(p, "limits.max-batch-size", InputLimits.DEFAULT_MAX_BATCH_SIZE),
                            integer(p, "limits.max-dim", InputLimits.DEFAULT_MAX_DIM)),
                    integer(p, "shards.per-job", 1),
                    duration(p, "stats.window", Duration.ofSeconds(10)),
                    p.getProperty("processing.guarantee", "exactly_once_v2"),
                    kafka);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("configuration: " + e.getMessage(), e);
        }
    }

    /** The {@code mining.*} keys, defaults for those missing. */
    public static MiningSettings miningFrom(Properties p) {
        MiningSettings d = MiningSettings.defaults();
        return new MiningSettings(
                Strategy.fromId(p.getProperty("mining.strategy", d.strategy().id())),
                (float) number(p, "mining.margin", d.margin()),
                Distance.fromId(p.getProperty("mining.distance", d.distance().id())),
                bool(p, "mining.normalize", d.normalize()),
                integer(p, "mining.max-per-anchor", d.maxPerAnchor()),
                integer(p, "mining.negatives-per-anchor", d.negativesPerAnchor()),
                longValue(p, "mining.seed", d.seed()),
                new MemorySampling(
                        integer(p, "mining.memory-negatives", d.memorySampling().negatives()),
                        integer(p, "mining.memory-positives", d.memorySampling().positives()),
                        integer(p, "mining.memory-samples-max-bytes", d.memorySampling().maxBytes())));
    }

    /** The {@code neighbors.*} keys, defaults (off) for those missing. */
    public static NeighborSettings neighborsFrom(Properties p) {
        return new NeighborSettings(
                integer(p, "neighbors.per-identity", NeighborSettings.OFF.perIdentity()),
                number(p, "neighbors.half-life-steps", NeighborSettings.OFF.halfLifeSteps()));
    }

    /** The {@code memory.*} count and age keys, defaults for those missing. */
    public static MemoryLimits memoryFrom(Properties p) {
        MemoryLimits m = MemoryLimits.defaults();
        return new MemoryLimits(
                integer(p, "memory.per-identity", m.perIdentity()),
                integer(p, "memory.max-embeddings", m.maxEmbeddings()),
                longValue(p, "memory.max-age-steps", m.maxAgeSteps()));
    }

    private static int integer(Properties p, String key, int fallback) {
        long v = longValue(p, key, fallback);
        require(v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE, key + " is out of range: " + v);
        return (int) v;
    }

    private static long longValue(Properties p, String key, long fallback) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be an integer, got '" + v + "'");
        }
    }

    private static double number(Properties p, String key, double fallback) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a number, got '" + v + "'");
        }
    }

    private static boolean bool(Properties p, String key, boolean fallback) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        String t = v.trim().toLowerCase(java.util.Locale.ROOT);
        require(t.equals("true") || t.equals("false"), key + " must be true or false, got '" + v + "'");
        return t.equals("true");
    }

    /** {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, or ISO-8601 ({@code PT10S}). */
    static Duration duration(Properties p, String key, Duration fallback) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        return parseDuration(key, v.trim());
    }

    public static Duration parseDuration(String key, String v) {
        try {
            if (v.startsWith("P") || v.startsWith("p")) {
                return Duration.parse(v);
            }
            if (v.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            }
            long n = Long.parseLong(v.substring(0, v.length() - 1));
            switch (v.charAt(v.length() - 1)) {
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
