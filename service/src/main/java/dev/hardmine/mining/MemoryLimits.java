package dev.hardmine.mining;

/**
 * Bounds of a job's memory. 0 means no limit for each.
 *
 * @param perIdentity   newest samples kept per label
 * @param maxEmbeddings samples kept in total (oldest evicted first)
 * @param maxAgeSteps   samples more than this many steps behind the newest step seen are evicted
 * @param maxBytes      the bytes the memory is charged for its samples ({@link MemoryBank#entryBytes})
 *                      are kept at or under this, oldest evicted first
 */
public record MemoryLimits(int perIdentity, int maxEmbeddings, long maxAgeSteps, long maxBytes) {

    public static final int DEFAULT_PER_IDENTITY = 16;
    public static final int DEFAULT_MAX_EMBEDDINGS = 65_536;

    public MemoryLimits {
        if (perIdentity < 0) {
            throw new IllegalArgumentException("memory.per-identity must be >= 0 (0 = no limit), got " + perIdentity);
        }
        if (maxEmbeddings < 0) {
            throw new IllegalArgumentException("memory.max-embeddings must be >= 0 (0 = no limit), got " + maxEmbeddings);
        }
        if (maxAgeSteps < 0) {
            throw new IllegalArgumentException("memory.max-age-steps must be >= 0 (0 = no limit), got " + maxAgeSteps);
        }
        if (maxBytes < 0) {
            throw new IllegalArgumentException("memory.max-bytes must be >= 0 (0 = no limit), got " + maxBytes);
        }
    }

    /** Limits without a byte budget. */
    public MemoryLimits(int perIdentity, int maxEmbeddings, long maxAgeSteps) {
        this(perIdentity, maxEmbeddings, maxAgeSteps, 0);
    }

    /** 16 per identity, 65 536 in total, no age limit. */
    public static MemoryLimits defaults() {
        return new MemoryLimits(DEFAULT_PER_IDENTITY, DEFAULT_MAX_EMBEDDINGS, 0);
    }

    /** No limit at all: the memory keeps every sample it is given. */
    public static MemoryLimits unbounded() {
        return new MemoryLimits(0, 0, 0);
    }
}
