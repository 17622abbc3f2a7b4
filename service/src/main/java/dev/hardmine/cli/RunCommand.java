package dev.hardmine.cli;

import dev.hardmine.metrics.HardmineMetrics;
import dev.hardmine.stream.MinerService;
import dev.hardmine.stream.ServiceConfig;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.web.HttpSettings;
import dev.hardmine.web.MinerView;
import dev.hardmine.web.NeighborBoard;
import dev.hardmine.web.StatsBoard;
import dev.hardmine.web.WebServer;
import java.io.IOException;
import java.io.Reader;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code hardmine run}: the mining service against an existing Kafka cluster and schema registry. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the mining service against an existing Kafka cluster and schema registry.",
            "Settings come from --config (a properties file); each flag overrides its key.",
            "Stops cleanly on SIGTERM or Ctrl-C (exit code 0); exits 1 when Kafka Streams stops on an error."})
public final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "Properties file (keys: see README).")
    Path config;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT", description = "Kafka (key bootstrap.servers).")
    String bootstrapServers;

    @Option(names = "--schema-registry-url", paramLabel = "URL",
            description = "Schema registry, http(s)://… or mock://NAME (key schema.registry.url).")
    String registryUrl;

    @Option(names = "--application-id", paramLabel = "ID",
            description = "Kafka Streams application id (key application.id, default: hardmine).")
    String applicationId;

    @Option(names = "--topic-prefix", paramLabel = "PREFIX",
            description = "Prefix of the topic names (key topics.prefix, default: hardmine.).")
    String topicPrefix;

    @Option(names = "--partitions", paramLabel = "N",
            description = "Partitions of topics created by hardmine (key topics.partitions, default: 6).")
    String partitions;

    @Option(names = "--replication-factor", paramLabel = "N",
            description = "Replication of created topics, -1 = broker default (key topics.replication-factor).")
    String replicationFactor;

    @Mixin
    MiningOptions mining;

    @Option(names = "--memory-max-bytes", paramLabel = "BYTES",
            description = "Memory budget per job (key memory.max-bytes, default: 536870912).")
    String memoryMaxBytes;

    @Option(names = "--shards-per-job", paramLabel = "N",
            description = "Identity shards per job; > 1 enables sharding (key shards.per-job, default: 1).")
    String shards;

    @Option(names = "--stats-window", paramLabel = "DURATION",
            description = "Tumbling window of the stats topic, e.g. 10s (key stats.window, default: 10s).")
    String statsWindow;

    @Option(names = "--processing-guarantee", paramLabel = "G",
            description = "exactly_once_v2 or at_least_once (key processing.guarantee, default: exactly_once_v2).")
    String guarantee;

    @Option(names = "--http-port", paramLabel = "PORT",
            description = "Dashboard, HTTP API and /metrics; 0 = any free port (key http.port, default: 8080).")
    String httpPort;

    @Option(names = "--http-bind", paramLabel = "ADDRESS",
            description = "Address the HTTP server binds (key http.bind, default: 127.0.0.1).")
    String httpBind;

    @Option(names = "--http-token", paramLabel = "TOKEN",
            description = "Require Authorization: Bearer TOKEN on /api/... and /metrics (key http.token, "
                    + "default: the environment variable " + HttpSettings.TOKEN_ENV + ", else none).")
    String httpToken;

    @Option(names = "--kafka", paramLabel = "KEY=VALUE",
            description = "A Kafka client or Streams setting, passed through (same as kafka.KEY in the file).")
    Map<String, String> kafka = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        Properties p;
        ServiceConfig checked;
        HttpSettings http;
        try {
            p = properties();
            http = HttpSettings.take(p, System.getenv());
            checked = ServiceConfig.fromProperties(p);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        CountDownLatch stop = new CountDownLatch(1);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Signals.onTermination(stop::countDown);
        // The HTTP side first: its address is Kafka Streams' application.server, where the other
        // instances ask for this one's part of a memory (unless kafka.application.server says
        // otherwise). The boards wait for the stats and neighbours topics: the service creates them.
        // Closed in reverse: Kafka Streams, then the HTTP side, then the boards it reads, then the
        // registry client they decode with, then the metrics' own tasks.
        try (HardmineMetrics metrics = new HardmineMetrics();
             SchemaRegistryClient registry = SchemaRegistryClient.create(
                     SerdeConfig.fromMap(MinerService.serdeSettings(checked)).client());
             StatsBoard board = StatsBoard.following(MinerService.adminProperties(checked), checked.topics().stats(),
                     registry);
             NeighborBoard neighbors = NeighborBoard.following(MinerService.adminProperties(checked),
                     checked.topics().neighbors(), registry);
             WebServer web = startWeb(http, board, neighbors, metrics)) {
            String applicationServer = "kafka." + StreamsConfig.APPLICATION_SERVER_CONFIG;
            if (!p.containsKey(applicationServer)) {
                p.setProperty(applicationServer, web.hostPort());
            }
            ServiceConfig serviceConfig = ServiceConfig.fromProperties(p);
            try (MinerService service = new MinerService(serviceConfig, metrics.observer())) {
                // Kafka Streams that stopped on an error mines nothing more: exit non-zero so that a
                // supervisor sees it and restarts the service, instead of waiting for a signal forever.
                service.failure().thenAccept(e -> {
                    failed.set(e);
                    stop.countDown();
                });
                service.start();
                metrics.bind(service);
                web.serve(MinerView.of(service, HostInfo.buildFromEndpoint(p.getProperty(applicationServer)),
                        metrics::consumerLag));
                System.err.println("hardmine run: http on " + web.url() + " (/metrics, /health, /ready"
                        + (http.token() == null ? ")" : "; /api and /metrics need the token)"));
                System.err.println("hardmine run: mining " + serviceConfig.topics().embeddings() + " as "
                        + serviceConfig.applicationId() + " on " + serviceConfig.bootstrapServers());
                stop.await();
                System.err.println("hardmine run: stopping");
            }
            Throwable e = failed.get();
            if (e != null) {
                throw new IllegalStateException("Kafka Streams stopped on an error: " + e, e);
            }
        }
        return 0;
    }

    private static WebServer startWeb(HttpSettings http, StatsBoard board, NeighborBoard neighbors,
                                      HardmineMetrics metrics) throws IOException {
        try {
            return new WebServer(new WebServer.Options(http.bind(), http.port(), http.token(), metrics::scrape), board,
                    neighbors);
        } catch (BindException e) {
            throw new IllegalStateException("cannot listen on " + http.bind() + ":" + http.port()
                    + " (--http-port, --http-bind): " + e.getMessage(), e);
        }
    }

    Properties properties() throws IOException {
        Properties p = new Properties();
        if (config != null) {
            if (!Files.isRegularFile(config)) {
                throw new ParameterException(spec.commandLine(), "--config " + config + ": no such file");
            }
            try (Reader r = Files.newBufferedReader(config, StandardCharsets.UTF_8)) {
                p.load(r);
            }
        }
        MiningOptions.put(p, "bootstrap.servers", bootstrapServers);
        MiningOptions.put(p, "schema.registry.url", registryUrl);
        MiningOptions.put(p, "application.id", applicationId);
        MiningOptions.put(p, "topics.prefix", topicPrefix);
        MiningOptions.put(p, "topics.partitions", partitions);
        MiningOptions.put(p, "topics.replication-factor", replicationFactor);
        MiningOptions.put(p, "memory.max-bytes", memoryMaxBytes);
        MiningOptions.put(p, "shards.per-job", shards);
        MiningOptions.put(p, "stats.window", statsWindow);
        MiningOptions.put(p, "processing.guarantee", guarantee);
        MiningOptions.put(p, "http.port", httpPort);
        MiningOptions.put(p, "http.bind", httpBind);
        MiningOptions.put(p, "http.token", httpToken);
        mining.applyTo(p);
        kafka.forEach((k, v) -> p.setProperty("kafka." + k, v));
        return p;
    }
}
