package dev.hardmine.client;

import dev.hardmine.registry.RegistryClientConfig;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What both client builders take: where Kafka and the registry are, Kafka settings passed
 * through, the topic and the job. A registry given by URL is created (and later closed) by the
 * client; a registry given as a {@link SchemaRegistryClient} belongs to the caller.
 *
 * @param <B> the concrete builder, returned by every setter
 */
abstract class ClientBuilder<B extends ClientBuilder<B>> {
    private String bootstrapServers;
    private String registryUrl;
    private SchemaRegistryClient registry;
    private final Map<String, Object> kafka = new HashMap<>();
    String topic;
    String jobId;

    ClientBuilder(String defaultTopic) {
        this.topic = defaultTopic;
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** {@code HOST:PORT[,HOST:PORT…]} of the Kafka cluster hardmine uses. */
    public B bootstrapServers(String servers) {
        this.bootstrapServers = requireText(servers, "bootstrapServers");
        return self();
    }

    /** The schema registry's URL ({@code http(s)://…}, or {@code mock://NAME} in tests). */
    public B registryUrl(String url) {
        this.registryUrl = requireText(url, "registryUrl");
        this.registry = null;
        return self();
    }

    /** A registry client to share; the caller keeps it and closes it. */
    public B registry(SchemaRegistryClient client) {
        this.registry = Objects.requireNonNull(client, "registry");
        this.registryUrl = null;
        return self();
    }

    /**
     * A Kafka client setting passed through ({@code security.protocol}, {@code linger.ms}, …). As
     * Confluent's serdes do, a registry given by URL also takes its settings from these:
     * {@code basic.auth.user.info}, {@code schema.registry.ssl.truststore.location}, … (see
     * {@link SerdeConfig}).
     */
    public B kafkaProperty(String key, Object value) {
        kafka.put(requireText(key, "key"), Objects.requireNonNull(value, "value"));
        return self();
    }

    /** The topic; by default hardmine's default name for it. */
    public B topic(String topic) {
        this.topic = requireText(topic, "topic");
        return self();
    }

    /** The training job: the key of its embedding batches, and the unit of hardmine's memory. */
    public B jobId(String jobId) {
        this.jobId = jobId;
        return self();
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

    /**
     * The serde settings of the registry's URL and the settings passed through; with a caller's
     * client, a placeholder URL whose client settings nothing reads (a serde given a client uses it
     * as it is).
     */
    SerdeConfig serdeConfig() {
        requireRegistry();
        Map<String, Object> settings = new HashMap<>(kafka);
        settings.put(SerdeConfig.SCHEMA_REGISTRY_URL,
                registryUrl != null ? registryUrl : RegistryClientConfig.MOCK_SCHEME + "caller-owned");
        return SerdeConfig.fromMap(settings);
    }

    /** A registry client that a client closes only when it created it. */
    record Registry(SchemaRegistryClient client, boolean owned) implements AutoCloseable {
        @Override
        public void close() {
            if (owned) {
                client.close();
            }
        }
    }

    /** The caller's registry client, or a new one for the URL, which the client built must close. */
    Registry openRegistry() {
        requireRegistry();
        return registry != null ? new Registry(registry, false)
                : new Registry(SchemaRegistryClient.create(serdeConfig().client()), true);
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
