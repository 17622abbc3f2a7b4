package dev.hardmine.registry;

import java.util.Locale;

/**
 * Confluent's compatibility levels. A new schema of a subject is checked against the latest version
 * ({@code BACKWARD}, {@code FORWARD}, {@code FULL}) or against every version ({@code *_TRANSITIVE}):
 * BACKWARD means the new schema can read data written with the old one, FORWARD the reverse, FULL both.
 */
public enum Compatibility {
    NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE;

    /** True when the new schema must be able to read data written with the old ones. */
    public boolean newReadsOld() {
        return this == BACKWARD || this == BACKWARD_TRANSITIVE || this == FULL || this == FULL_TRANSITIVE;
    }

    /** True when the old schemas must be able to read data written with the new one. */
    public boolean oldReadsNew() {
        return this == FORWARD || this == FORWARD_TRANSITIVE || this == FULL || this == FULL_TRANSITIVE;
    }

    /** True when every earlier version is checked, not only the latest. */
    public boolean transitive() {
        return name().endsWith("_TRANSITIVE");
    }

    /**
     * Parses a level as Confluent accepts it (case-insensitive).
     *
     * @throws SchemaRegistryException 422 / 42203 when it is not a level
     */
    public static Compatibility parse(String level) {
        if (level != null) {
            try {
                return valueOf(level.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException ignored) {
                // reported below with Confluent's code and wording
            }
        }
        throw new SchemaRegistryException(422, SchemaRegistryException.INVALID_COMPATIBILITY_LEVEL,
                "Invalid compatibility level. Valid values are none, backward, forward, full, "
                        + "backward_transitive, forward_transitive, and full_transitive");
    }
}
