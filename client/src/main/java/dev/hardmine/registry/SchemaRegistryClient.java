package dev.hardmine.registry;

import dev.hardmine.registry.internals.HttpSchemaRegistryClient;
import org.apache.avro.Schema;

/**
 * A client of a Confluent-compatible schema registry.
 *
 * <p>Implementations cache what cannot change: the id of a schema registered under a subject and
 * the schema of an id are asked for once; after that the calls a serde makes per record answer from
 * memory. Only {@link #getLatestVersion} may ask again, after {@link RegistryClientConfig#latestCacheTtl()}.
 * Implementations are thread-safe.
 *
 * <p>Failures are {@link SchemaRegistryException}s carrying Confluent's {@code error_code}.
 */
public interface SchemaRegistryClient extends AutoCloseable {

    /**
     * Registers {@code schema} under {@code subject} (a no-op when it is already there) and returns
     * its global id.
     *
     * @throws SchemaRegistryException 409 when the schema is incompatible with the subject's
     *                                 earlier versions, 422 when it is invalid
     */
    int register(String subject, Schema schema);

    /**
     * Finds {@code schema} among the versions of {@code subject} without registering it.
     *
     * @throws SchemaRegistryException 404 with 40401 (no such subject) or 40403 (not registered there)
     */
    RegisteredSchema lookup(String subject, Schema schema);

    /**
     * The schema with the given global id.
     *
     * @throws SchemaRegistryException 404 with 40403 when no schema has that id
     */
    Schema getSchemaById(int id);

    /**
     * The latest version of a subject.
     *
     * @throws SchemaRegistryException 404 with 40401 when the subject does not exist
     */
    RegisteredSchema getLatestVersion(String subject);

    /**
     * Whether {@code schema} could be registered as the next version of {@code subject} under the
     * subject's compatibility level, checked against its latest version (all versions for a
     * transitive level). True for a subject without versions.
     */
    boolean testCompatibility(String subject, Schema schema);

    /** Releases what the client holds; a no-op for most clients. */
    @Override
    default void close() {
    }

    /**
     * The client for a configuration: {@code mock://NAME} gives the in-process registry of that name
     * ({@link MockSchemaRegistry#scope(String)}), {@code http(s)://…} a REST client.
     */
    static SchemaRegistryClient create(RegistryClientConfig config) {
        if (config.isMock()) {
            return MockSchemaRegistry.scope(config.urls().get(0).substring(RegistryClientConfig.MOCK_SCHEME.length()));
        }
        return new HttpSchemaRegistryClient(config);
    }

    /** {@link #create(RegistryClientConfig)} with the defaults of {@link RegistryClientConfig#of(String)}. */
    static SchemaRegistryClient forUrl(String url) {
        return create(RegistryClientConfig.of(url));
    }
}
