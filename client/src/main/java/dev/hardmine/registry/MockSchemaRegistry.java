package dev.hardmine.registry;

import java.util.concurrent.ConcurrentHashMap;

import dev.hardmine.registry.internals.SchemaStore;
import org.apache.avro.Schema;

/**
 * In-process registries for {@code schema.registry.url=mock://NAME}, Confluent's convention for
 * tests: every client of the same NAME in this JVM shares one registry, which answers exactly as
 * the {@link EmbeddedSchemaRegistry} does (same ids, compatibility checks and error codes), without
 * HTTP. {@link #dropScope(String)} forgets a registry, so the next test starts empty.
 */
public final class MockSchemaRegistry {

    private static final ConcurrentHashMap<String, ScopeClient> SCOPES = new ConcurrentHashMap<>();

    private MockSchemaRegistry() {
    }

    /** The client of the registry named {@code name}, created empty on first use. */
    public static SchemaRegistryClient scope(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("mock:// needs a name, as in mock://my-test");
        }
        return SCOPES.computeIfAbsent(name, n -> new ScopeClient(SchemaStore.inMemory()));
    }

    /** Forgets the registry named {@code name}; clients obtained before keep the old one. */
    public static void dropScope(String name) {
        SCOPES.remove(name);
    }

    private record ScopeClient(SchemaStore store) implements SchemaRegistryClient {

        @Override
        public int register(String subject, Schema schema) {
            return store.register(subject, schema.toString()).id();
        }

        @Override
        public RegisteredSchema lookup(String subject, Schema schema) {
            return store.lookup(subject, schema.toString());
        }

        @Override
        public Schema getSchemaById(int id) {
            return store.schemaById(id);
        }

        @Override
        public RegisteredSchema getLatestVersion(String subject) {
            return store.version(subject, "latest");
        }

        @Override
        public boolean testCompatibility(String subject, Schema schema) {
            return store.testCompatibility(subject, "latest", schema.toString()).compatible();
        }
    }
}
