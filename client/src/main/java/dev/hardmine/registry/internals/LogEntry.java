package dev.hardmine.registry.internals;

import java.util.Objects;

import dev.hardmine.registry.Compatibility;

/** One record of the registry's log. */
public sealed interface LogEntry {

    /**
     * Version {@code version} of {@code subject} is the schema {@code schema} with global id {@code id};
     * {@code deleted} marks Confluent's soft delete of that version.
     */
    record SchemaVersion(String subject, int version, int id, String schema, boolean deleted) implements LogEntry {
        public SchemaVersion {
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(schema, "schema");
        }
    }

    /** The compatibility level of {@code subject}, or the global one when {@code subject} is null. */
    record Config(String subject, Compatibility compatibility) implements LogEntry {
        public Config {
            Objects.requireNonNull(compatibility, "compatibility");
        }
    }

    /** A version of a subject was removed for good (a tombstone in the compacted topic). */
    record SchemaVersionRemoved(String subject, int version) implements LogEntry {
    }
}
