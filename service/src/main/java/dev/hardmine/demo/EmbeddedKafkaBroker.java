package dev.hardmine.demo;

import dev.hardmine.stream.ServiceConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) running inside this JVM,
 * for the {@code demo} command and for integration tests.
 *
 * <p>It formats its log directory the way {@code kafka-storage format} does, then starts
 * {@link KafkaRaftServer} with a static one-voter quorum. Every listener binds {@code 127.0.0.1}.
 * The single-broker settings that would otherwise make consumer groups and transactions hang
 * (replication factor 1 for the offsets and transaction-state topics) are preset, and so are the
 * settings that make tests fast (one offsets and transaction-state partition, no initial
 * rebalance delay). Any of them can be overridden with {@link Builder#brokerProperty}.
 *
 * <p>{@link #start()} returns once the broker answers metadata requests and reports itself in the
 * cluster. {@link #close()} stops it and, when the log directory was a temporary one made by
 * {@link #start()}, deletes it. A broker started on a given log directory keeps its data there and
 * may be started again on it (the directory is formatted only once).
 *
 * <pre>{@code
 * try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.builder().port(9092).start()) {
 *     String bootstrap = kafka.bootstrapServers();   // "127.0.0.1:9092"
 * }
 * }</pre>
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
    private static final String HOST = "127.0.0.1";
    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";

    private final KafkaRaftServer server;
    private final Path logDir;
    private final boolean deleteLogDirOnClose;
    private final int port;
    private final Map<String, Integer> listenerPorts;
    private final Properties serverProperties;
    private boolean closed;

    private EmbeddedKafkaBroker(KafkaRaftServer server, Path logDir, boolean deleteLogDirOnClose,
                                int port, Map<String, Integer> listenerPorts, Properties serverProperties) {
        this.server = server;
        this.logDir = logDir;
        this.deleteLogDirOnClose = deleteLogDirOnClose;
        this.port = port;
        this.listenerPorts = Map.copyOf(listenerPorts);
        this.serverProperties = serverProperties;
    }

    /** A builder with an ephemeral port, a temporary log directory and a 30 s start timeout. */
    public static Builder builder() {
        return new Builder();
    }

    /** Starts a broker on a free port with a temporary log directory. */
    public static EmbeddedKafkaBroker start() {
        return builder().start();
    }

    /** The {@code bootstrap.servers} value for clients: {@code 127.0.0.1:PORT}. */
    public String bootstrapServers() {
        return HOST + ":" + port;
    }

    /** The port of the client (PLAINTEXT) listener. */
    public int port() {
        return port;
    }

    /**
     * The {@code bootstrap.servers} value for clients of the listener {@code name} added with
     * {@link Builder#listener}: {@code 127.0.0.1:PORT}.
     *
     * @throws IllegalArgumentException when the broker has no such listener
     */
    public String bootstrapServers(String name) {
        Integer listenerPort = listenerPorts.get(name.toUpperCase(Locale.ROOT));
        if (listenerPort == null) {
            throw new IllegalArgumentException("no listener " + name + "; the broker has " + listenerPorts.keySet());
        }
        return HOST + ":" + listenerPort;
    }

    /** The directory holding the broker's data and metadata logs. */
    public Path logDir() {
        return logDir;
    }

    /** A copy of the properties the broker was started with. */
    public Properties serverProperties() {
        Properties copy = new Properties();
        copy.putAll(serverProperties);
        return copy;
    }

    /** An {@link Admin} client connected to this broker; the caller closes it. */
    public Admin admin() {
        return Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000));
    }

    /**
     * Creates topics with one replica each (the only replication this broker can give), waiting for
     * the creation to complete. Topics that already exist are left as they are.
     */
    public void createTopics(Collection<NewTopic> topics) {
        try (Admin admin = admin()) {
            var futures = admin.createTopics(topics).values();
            for (var entry : futures.entrySet()) {
                try {
                    entry.getValue().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("Could not create topic " + entry.getKey(), e.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while creating topics", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("Timed out creating topics " + topics, e);
        }
    }

    /** Creates topics of the given names with the given number of partitions and one replica. */
    public void createTopics(int partitions, String... names) {
        createTopics(Arrays.stream(names).map(n -> new NewTopic(n, partitions, (short) 1)).toList());
    }

    /** Stops the broker (waits for it) and deletes the log directory when it was temporary. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.shutdown();
            server.awaitShutdown();
        } finally {
            if (deleteLogDirOnClose) {
                deleteRecursively(logDir);
            }
        }
    }

    /** Settings of a broker to start. */
    public static final class Builder {
        private int port;
        private Path logDir;
        private Duration startTimeout = Duration.ofSeconds(30);
        private final Map<String, String> overrides = new LinkedHashMap<>();
        /** Security protocol of each listener added besides the PLAINTEXT one, by name. */
        private final Map<String, SecurityProtocol> listeners = new LinkedHashMap<>();

        private Builder() {
        }

        /** Port of the client listener; 0 (the default) picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port must be in 0..65535, got " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * Directory for the broker's logs, created and formatted when needed and kept on close.
         * Without it, a temporary directory is used and deleted on close.
         */
        public Builder logDir(Path logDir) {
            this.logDir = Objects.requireNonNull(logDir, "logDir");
            return this;
        }

        /** How long {@link #start()} waits for the broker to become ready (default 30 s). */
        public Builder startTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be positive");
            }
            this.startTimeout = timeout;
            return this;
        }

        /** Sets or overrides one broker property (for example {@code log.retention.ms}). */
        public Builder brokerProperty(String key, String value) {
            overrides.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * Adds a client listener {@code name} with its security protocol on a free port of 127.0.0.1,
         * besides the PLAINTEXT one that {@link EmbeddedKafkaBroker#admin()}, the controller and the broker itself use.
         * Its own settings (key store, SASL mechanisms) are broker properties of the listener:
         * {@code brokerProperty("listener.name." + name.toLowerCase() + ".ssl.keystore.location", …)}.
         * Clients find it at {@link EmbeddedKafkaBroker#bootstrapServers(String)}.
         */
        public Builder listener(String name, SecurityProtocol protocol) {
            String upper = Objects.requireNonNull(name, "name").toUpperCase(Locale.ROOT);
            if (!upper.matches("[A-Z][A-Z0-9_]*") || upper.equals("PLAINTEXT") || upper.equals(CONTROLLER_LISTENER)) {
                throw new IllegalArgumentException("listener name must be a new name of letters, digits and _, got " + name);
            }
            listeners.put(upper, Objects.requireNonNull(protocol, "protocol"));
            return this;
        }

        /**
         * Formats the log directory if needed, starts the broker and waits until it is ready. A port
         * picked here that another process takes first is picked again (up to 3 attempts).
         */
        public EmbeddedKafkaBroker start() {
            boolean temporary = logDir == null;
            Path dir;
            try {
                dir = temporary ? Files.createTempDirectory("hardmine-kafka-") : Files.createDirectories(logDir);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot create the broker's log directory", e);
            }
            try {
                for (int attempt = 1; ; attempt++) {
                    try {
                        return startOn(dir, temporary, pickPorts());
                    } catch (RuntimeException e) {
                        if (attempt >= 3 || !pickedPortTaken(e)) {
                            throw e;
                        }
                        log.warn("A port picked for the Kafka broker was taken meanwhile; picking again", e);
                    }
                }
            } catch (RuntimeException | Error e) {
                if (temporary) {
                    deleteRecursively(dir);
                }
                throw e;
            }
        }

        /**
         * The client port (the one asked for, or a free one), the controller's, then one per extra
         * listener in the order they were added: all different, as the broker requires.
         */
        private int[] pickPorts() {
            int[] free = freePorts((port == 0 ? 2 : 1) + listeners.size(), port);
            if (port == 0) {
                return free;
            }
            int[] ports = new int[free.length + 1];
            ports[0] = port;
            System.arraycopy(free, 0, ports, 1, free.length);
            return ports;
        }

        /** @param ports as {@link #pickPorts} gives them */
        private EmbeddedKafkaBroker startOn(Path dir, boolean temporary, int[] ports) {
            int clientPort = ports[0];
            int controllerPort = ports[1];
            Map<String, Integer> listenerPorts = new LinkedHashMap<>();
            int next = 2;
            for (String name : listeners.keySet()) {
                listenerPorts.put(name, ports[next++]);
            }
            Properties props = serverProperties(dir, clientPort, controllerPort, listenerPorts);
            KafkaRaftServer server = null;
            try {
                format(dir, props);
                server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
                server.startup();
                EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(server, dir, temporary, clientPort, listenerPorts, props);
                broker.awaitReady(startTimeout);
                log.info("Kafka broker ready at {} (log dir {})", broker.bootstrapServers(), dir);
                return broker;
            } catch (RuntimeException | Error e) {
                if (server != null) {
                    try {
                        server.shutdown();
                        server.awaitShutdown();
                    } catch (RuntimeException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw e;
            }
        }

        /** True when a port this builder picked (not one the caller asked for) was taken. */
        private boolean pickedPortTaken(Throwable e) {
            boolean taken = false;
            for (Throwable t = e; t != null; t = t.getCause()) {
                String message = t.getMessage() == null ? "" : t.getMessage();
                if (port != 0 && message.contains(HOST + ":" + port + ":")) {
                    return false;
                }
                taken |= t instanceof java.net.BindException || message.contains("Address already in use");
            }
            return taken;
        }

        private Properties serverProperties(Path dir, int clientPort, int controllerPort, Map<String, Integer> listenerPorts) {
            StringBuilder extra = new StringBuilder();
            StringBuilder extraProtocols = new StringBuilder();
            listenerPorts.forEach((name, listenerPort) -> {
                extra.append(',').append(name).append("://").append(HOST).append(':').append(listenerPort);
                extraProtocols.append(',').append(name).append(':').append(listeners.get(name).name);
            });
            Properties p = new Properties();
            p.put("process.roles", "broker,controller");
            p.put("node.id", Integer.toString(NODE_ID));
            p.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
            p.put("listeners", "PLAINTEXT://" + HOST + ":" + clientPort + "," + CONTROLLER_LISTENER + "://" + HOST + ":" + controllerPort
                    + extra);
            p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + clientPort + extra);
            p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT" + extraProtocols);
            p.put("controller.listener.names", CONTROLLER_LISTENER);
            p.put("inter.broker.listener.name", "PLAINTEXT");
            p.put("log.dirs", dir.toAbsolutePath().toString());
            p.put("num.partitions", "1");
            p.put("default.replication.factor", "1");
            p.put("min.insync.replicas", "1");
            // Without these a single broker never lets consumer groups join or transactions start.
            p.put("offsets.topic.replication.factor", "1");
            p.put("transaction.state.log.replication.factor", "1");
            p.put("transaction.state.log.min.isr", "1");
            p.put("share.coordinator.state.topic.replication.factor", "1");
            p.put("share.coordinator.state.topic.min.isr", "1");
            // Fast start, fast group joins; one machine needs no more partitions than this.
            p.put("offsets.topic.num.partitions", "1");
            p.put("transaction.state.log.num.partitions", "1");
            p.put("group.initial.rebalance.delay.ms", "0");
            // The log cleaner's dedupe buffer defaults to 128 MiB; the demo's compacted topics are tiny.
            p.put("log.cleaner.dedupe.buffer.size", Integer.toString(8 * 1024 * 1024));
            p.putAll(overrides);
            return p;
        }

        private static void format(Path dir, Properties props) {
            if (Files.exists(dir.resolve("meta.properties"))) {
                return;
            }
            Formatter formatter = new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setNodeId(NODE_ID)
                    .setClusterId(Uuid.randomUuid().toString())
                    .setDirectories(List.of(dir.toAbsolutePath().toString()))
                    .setMetadataLogDirectory(dir.toAbsolutePath().toString())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .setIgnoreFormatted(true);
            try {
                formatter.run();
            } catch (Exception e) {
                throw new IllegalStateException("Could not format the Kafka log directory " + dir + " with "
                        + withoutSecrets(props), e);
            }
        }
    }

    /** The properties for a message, the values of secrets hidden ({@link ServiceConfig#isSecretKey}). */
    static Map<String, String> withoutSecrets(Properties props) {
        Map<String, String> all = new java.util.HashMap<>();
        props.stringPropertyNames().forEach(key -> all.put(key, props.getProperty(key)));
        return ServiceConfig.withoutSecrets(all);
    }

    private void awaitReady(Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        Exception last = null;
        try (Admin admin = admin()) {
            while (Instant.now().isBefore(deadline)) {
                try {
                    var nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(2_000))
                            .nodes().get(3, TimeUnit.SECONDS);
                    if (!nodes.isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    last = e;
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for the Kafka broker", e);
        }
        throw new IllegalStateException("Kafka broker at " + bootstrapServers() + " not ready within " + timeout, last);
    }

    /** A port that was free a moment ago on 127.0.0.1: {@link #freePorts freePorts(1, 0)}. */
    public static int freePort() {
        return freePorts(1, 0)[0];
    }

    /**
     * {@code n} different ports that were free a moment ago on 127.0.0.1, none of them {@code except}
     * (a port already chosen but not bound yet; 0 for none). The sockets that find them stay open
     * until all are found, so the system cannot hand out one port twice, as ports picked one after
     * the other may be (a broker given the same port for two listeners fails to start). Another
     * process may still take one before the broker binds it: {@link Builder#start} picks again then.
     */
    public static int[] freePorts(int n, int except) {
        List<ServerSocket> open = new ArrayList<>();
        try {
            int[] ports = new int[n];
            // Each socket holds its port, so `except` comes back once at most: n + 1 sockets at most.
            for (int found = 0; found < n; ) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST));
                open.add(socket);
                if (socket.getLocalPort() != except) {
                    ports[found++] = socket.getLocalPort();
                }
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("No free port on " + HOST, e);
        } finally {
            for (ServerSocket socket : open) {
                try {
                    socket.close();
                } catch (IOException e) {
                    log.debug("Closing a port probe failed", e);
                }
            }
        }
    }

    private static void deleteRecursively(Path dir) {
        try {
            Utils.delete(dir.toFile());
        } catch (IOException e) {
            log.warn("Could not delete the Kafka log directory {}", dir, e);
        }
    }
}
