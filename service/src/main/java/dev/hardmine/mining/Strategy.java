package dev.hardmine.mining;

import java.util.Arrays;
import java.util.Locale;

/** The mining strategies of docs/DESIGN.md, by the names users give them. */
public enum Strategy {
    /** Per anchor: the farthest positive and the nearest negative (Hermans et al. 2017). */
    BATCH_HARD("batch-hard"),
    /** Every hard triplet (gap ≤ 0). */
    HARD("hard"),
    /** Every semi-hard triplet (0 < gap ≤ margin). */
    SEMI_HARD("semi-hard"),
    /** Every easy triplet (gap > margin). */
    EASY("easy"),
    /** Every hard or semi-hard triplet (gap ≤ margin). */
    ALL("all"),
    /** Per anchor: the farthest positive with the nearest sample of each of the nearest other identities. */
    N_PAIR("n-pair"),
    /** Negatives sampled with probability ∝ 1/q(d) (Wu et al. 2017), seeded. */
    DISTANCE_WEIGHTED("distance-weighted");

    private final String id;

    Strategy(String id) {
        this.id = id;
    }

    /** The name used in flags, properties, JobConfig and MinedBatch.strategy. */
    public String id() {
        return id;
    }

    /** Parses a user-facing name such as {@code semi-hard}. */
    public static Strategy fromId(String id) {
        String wanted = id.trim().toLowerCase(Locale.ROOT);
        for (Strategy s : values()) {
            if (s.id.equals(wanted)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown strategy '" + id + "'; expected one of "
                + Arrays.stream(values()).map(Strategy::id).toList());
    }
}
