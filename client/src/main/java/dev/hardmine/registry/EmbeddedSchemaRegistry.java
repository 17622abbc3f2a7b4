package dev.hardmine.registry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpServer;
import dev.hardmine.registry.internals.InMemorySchemaLog;
import dev.hardmine.registry.internals.KafkaSchemaLog;
import dev.hardmine.registry.internals.RegistryHttpHandler;
import dev.hardmine.registry.internals.SchemaLog;
import dev.hardmine.registry.internals.SchemaStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Confluent-compatible schema registry served over HTTP from this JVM, for the {@code demo}
 * command and for tests: Confluent's Java, Python ({@code confluent_kafka}) and Node
 * ({@code @kafkajs/confluent-schema-registry}) clients register and fetch Avro schemas from it.
 *
 * <p>Schemas get global ids (the same schema under two subjects has one id) and are compared by
 * their normalized JSON form, so whitespace and attribute order do not make a new id. New versions
 * are checked against the subject's compatibility level (BACKWARD by default), with Avro's
 * {@link org.apache.avro.SchemaCompatibility}.
 *
 * <p>With {@link Builder#kafka(String)}, state is kept in a compacted Kafka topic ({@code _schemas}
 * by default, created when missing) in Confluent's record format: on start the topic is read to its
 * end before the server answers, and every write is applied once Kafka has it, so ids survive a
 * restart. Without it, state lives in memory and ends with the registry. One registry instance
 * should write to a topic at a time.
 *
 * <pre>{@code
 * try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.builder().kafka(broker.bootstrapServers()).start()) {
 *     String url = registry.url();   // http://127.0.0.1:PORT
 * }
 * }</pre>
 */
public final class EmbeddedSchemaRegistry implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedSchemaRegistry.class);

    /** The topic Confluent's registry keeps its schemas in. */
    public static final String DEFAULT_TOPIC = "_schemas";

    private final HttpServer server;
    private final ExecutorService executor;
    private final SchemaStore store;
    private final String url;

    private EmbeddedSchemaRegistry(HttpServer server, ExecutorService executor, SchemaStore store) {
        this.server = server;
        this.executor = executor;
        this.store = store;
        InetSocketAddress address = server.getAddress();
        this.url = "http://" + address.getHostString() + ":" + address.getPort();
    }

    /** A builder: port 0 (ephemeral), bound to 127.0.0.1, in memory. */
    public static Builder builder() {
        return new Builder();
    }

    /** The base URL to give clients as {@code schema.registry.url}. */
    public String url() {
        return url;
    }

    /** The port the server listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** Stops serving, then closes the Kafka store. Idempotent. */
    @Override
    public synchronized void close() {
        if (executor.isShutdown()) {
            return;
        }
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.close();
    }

    /** Settings of a registry to start. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port;
        private String bootstrapServers;
        private String topic = DEFAULT_TOPIC;
        private final Map<String, Object> kafkaProperties = new HashMap<>();
        private Duration storeTimeout = Duration.ofSeconds(30);
        private int threads = 4;

        private Builder() {
        }

        /** Port to listen on; 0 (the default) picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("registry port must be in 0..65535, got " + port);
            }
            this.port = port;
            return this;
        }

        /** Address to bind; 127.0.0.1 unless told otherwise. */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** Keep schemas in Kafka at these bootstrap servers (default: in memory). */
        public Builder kafka(String bootstrapServers) {
            this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            return this;
        }

        /** Extra Kafka client settings for the store (security settings, for example). */
        public Builder kafkaProperty(String key, Object value) {
            kafkaProperties.put(key, value);
            return this;
        }

        /** The schemas topic (default {@value #DEFAULT_TOPIC}). */
        public Builder topic(String topic) {
            this.topic = Objects.requireNonNull(topic, "topic");
            return this;
        }

        /** Bound of the start-up read of the topic and of each write to it (default 30 s). */
        public Builder storeTimeout(Duration timeout) {
            this.storeTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /** Threads serving requests (default 4). */
        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1");
            }
            this.threads = threads;
            return this;
        }

        /** Reads the store (to the end of the topic, with Kafka), then starts serving. */
        public EmbeddedSchemaRegistry start() {
            SchemaLog schemaLog = bootstrapServers == null ? new InMemorySchemaLog()
                    : new KafkaSchemaLog(bootstrapServers, topic, kafkaProperties, storeTimeout);
            SchemaStore store;
            try {
                store = SchemaStore.open(schemaLog);
            } catch (RuntimeException e) {
                schemaLog.close();
                throw e;
            }
            AtomicInteger threadNumber = new AtomicInteger();
            ExecutorService executor = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "schema-registry-http-" + threadNumber.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            try {
                HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
                server.createContext("/", new RegistryHttpHandler(store));
                server.setExecutor(executor);
                server.start();
                EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(server, executor, store);
                log.info("Schema registry serving at {} ({})", registry.url(),
                        bootstrapServers == null ? "in memory" : "topic " + topic + " at " + bootstrapServers);
                return registry;
            } catch (IOException e) {
                executor.shutdownNow();
                store.close();
                throw new UncheckedIOException("Cannot listen on " + host + ":" + port, e);
            }
        }
    }
}
