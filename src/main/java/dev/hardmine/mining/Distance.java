package dev.hardmine.mining;

import dev.hardmine.mining.internals.SortKeys;
import java.util.Arrays;
import java.util.Locale;

/**
 * The distance between two embeddings, as users name it in settings ({@link #id()}).
 *
 * <p>Distances are computed from one matrix product per batch. The product yields a
 * <em>score</em> per (anchor, memory entry) pair that is a monotone non-decreasing function of
 * the distance, so that ordering, minima and threshold tests can run on raw scores and only
 * the few distances that are reported or summed are converted:
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

    /**
     * The largest score whose distance is at most {@code distance}: {@code toDistance(s) <= distance}
     * holds exactly for {@code s <= scoreBound(distance)}. This makes threshold tests on scores
     * agree bit for bit with the same tests on the converted float distances.
     */
    public float scoreBound(float distance) {
        if (Float.isNaN(distance)) {
            throw new IllegalArgumentException("NaN distance bound");
        }
        if (distance == Float.POSITIVE_INFINITY) {
            return Float.POSITIVE_INFINITY;
        }
        float s;
        switch (this) {
            case EUCLIDEAN:
                s = distance * distance;
                break;
            case SQUARED_EUCLIDEAN:
                s = distance;
                break;
            default:
                s = distance - 1f;
                break;
        }
        if (distance < 0f) {
            // No score maps to a negative distance; every real score is above the bound.
            return Float.NEGATIVE_INFINITY;
        }
        // The guess may be many ulps off: for cosine near distance 1 the score is near 0, where
        // floats are dense, and hundreds of scores or more round to one distance. Bracket the
        // boundary of the monotone map by doubling steps, then bisect it, in float order.
        int below = SortKeys.sortableBits(s);
        long step = 1;
        while (toDistance(SortKeys.fromSortableBits(below)) > distance) {
            below = (int) Math.max((long) below - step, SortKeys.sortableBits(-Float.MAX_VALUE));
            step *= 2;
        }
        int above = below;
        step = 1;
        do {
            if (above == SortKeys.sortableBits(Float.MAX_VALUE)) {
                return Float.MAX_VALUE;
            }
            below = above;
            above = (int) Math.min((long) above + step, SortKeys.sortableBits(Float.MAX_VALUE));
            step *= 2;
        } while (toDistance(SortKeys.fromSortableBits(above)) <= distance);
        while ((long) above - below > 1) {
            int mid = (int) Math.floorDiv((long) below + above, 2);
            if (toDistance(SortKeys.fromSortableBits(mid)) <= distance) {
                below = mid;
            } else {
                above = mid;
            }
        }
        return SortKeys.fromSortableBits(below);
    }
}
