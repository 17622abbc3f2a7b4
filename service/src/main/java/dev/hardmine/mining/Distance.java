package dev.hardmine.mining;

import java.util.Arrays;
import java.util.Locale;

/**
 * The distance between two embeddings, as users name it in settings ({@link #id()}).
 *
 * <p>Distances are computed from one matrix product per batch. The product yields a
 * <em>score</em> per (anchor, memory entry) pair, converted to the distance by
 * {@link #toDistance(float)}, a monotone non-decreasing function:
 * <ul>
 *   <li>{@code euclidean}: score = ‖x−y‖² computed as |x|² + |y|² − 2x·y, distance = √max(score, 0)</li>
 *   <li>{@code squared-euclidean}: the same score, distance = max(score, 0)</li>
 *   <li>{@code cosine}: score = −cos(x, y), distance = max(1 + score, 0) = 1 − cos(x, y)</li>
 * </ul>
 * For every distance a larger value means farther apart.
 */
public enum Distance {
    EUCLIDEAN("euclidean"),
    SQUARED_EUCLIDEAN("squared-euclidean"),
    COSINE("cosine");

    private final String id;

    Distance(String id) {
        this.id = id;
    }

    /** The name used in flags, properties, JobConfig and MinedBatch.distance. */
    public String id() {
        return id;
    }

    /** Parses a user-facing name such as {@code squared-euclidean}. */
    public static Distance fromId(String id) {
        String wanted = id.trim().toLowerCase(Locale.ROOT);
        for (Distance d : values()) {
            if (d.id.equals(wanted)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown distance '" + id + "'; expected one of "
                + Arrays.stream(values()).map(Distance::id).toList());
    }

    /** Converts a score of the distance matrix to the distance it stands for. */
    public float toDistance(float score) {
        switch (this) {
            case EUCLIDEAN:
                return score > 0f ? (float) Math.sqrt(score) : 0f;
            case SQUARED_EUCLIDEAN:
                return score > 0f ? score : 0f;
            default:
                float d = 1f + score;
                return d > 0f ? d : 0f;
        }
    }
}
