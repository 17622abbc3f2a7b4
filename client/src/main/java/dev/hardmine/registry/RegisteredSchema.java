package dev.hardmine.registry;

import java.util.Objects;

import org.apache.avro.Schema;

/**
 * One version of a subject: the subject, the schema's global id, the version within the subject
 * (from 1), and the schema.
 */
public record RegisteredSchema(String subject, int id, int version, Schema schema) {
    public RegisteredSchema {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(schema, "schema");
    }
}
