package dev.hardmine.client;

import dev.hardmine.registry.RegistryClientConfig;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What both client builders collect: where Kafka and the registry are, and Kafka settings passed
 * through. A registry given by URL is created (and later closed) by the client; a registry given
 * as a {@link SchemaRegistryClient} belongs to the caller.
 */
final class Connection {
    private String bootstrapServers;
    private String registryUrl;
    private SchemaRegistryClient registry;
    private final Map<String, Object> kafka = new HashMap<>();

    void bootstrapServers(String servers) {
        this.bootstrapServers = requireText(servers, "bootstrapServers");
    }

    void registryUrl(String url) {
        this.registryUrl = requireText(url, "registryUrl");
        this.registry = null;
    }

    void registry(SchemaRegistryClient client) {
        this.registry = Objects.requireNonNull(client, "registry");
        this.registryUrl = null;
    }

    void kafkaProperty(String key, Object value) {
        kafka.put(requireText(key, "key"), Objects.requireNonNull(value, "value"));
    }

    /** The Kafka settings: bootstrap servers, then the defaults, then what the user passed through. */
    Map<String, Object> kafkaProperties(Map<String, Object> defaults) {
        if (bootstrapServers == null) {
            throw new IllegalStateException("bootstrapServers is required (HOST:PORT of the Kafka cluster)");
        }
        Map<String, Object> props = new HashMap<>(defaults);
        props.put("bootstrap.servers", bootstrapServers);
        props.putAll(kafka);
        return props;
    }

    /** The serde settings: the registry's own, or defaults when the caller gave a client. */
    SerdeConfig serdeConfig() {
        requireRegistry();
        return registryUrl != null ? SerdeConfig.of(registryUrl) : SerdeConfig.of(RegistryClientConfig.MOCK_SCHEME + "caller-owned");
    }

    /** The registry client and whether the client must close it. */
    SchemaRegistryClient registryClient() {
        requireRegistry();
        return registry != null ? registry : SchemaRegistryClient.create(SerdeConfig.of(registryUrl).client());
    }

    boolean ownsRegistry() {
        return registry == null;
    }

    private void requireRegistry() {
        if (registry == null && registryUrl == null) {
            throw new IllegalStateException("a schema registry is required: registryUrl(\"http://HOST:PORT\") or registry(client)");
        }
    }

    static String requireText(String value, String name) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be empty");
        }
        return value;
    }
}
