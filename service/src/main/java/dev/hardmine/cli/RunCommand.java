package dev.hardmine.cli;

import dev.hardmine.runtime.ServiceInstance;
import dev.hardmine.runtime.ServiceSettings;
import dev.hardmine.stream.ServiceConfig;
import dev.hardmine.web.HttpSettings;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code hardmine run}: the mining service against an existing Kafka cluster and schema registry. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false, resourceBundle = SettingFlags.HELP,
        description = {"Run the mining service against an existing Kafka cluster and schema registry.",
            "Each setting comes from its flag, else its key in --config (a properties file), else the environment "
                + "(HARDMINE_ and the key in upper case, dots and dashes as underscores: HARDMINE_MINING_MARGIN), "
                + "else its default.",
            "Stops cleanly on SIGTERM or Ctrl-C (exit code 0); exits 1 when Kafka Streams stops on an error."})
public final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "Properties file (keys: see README).")
    Path config;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT", descriptionKey = "bootstrap.servers")
    String bootstrapServers;

    @Option(names = "--schema-registry-url", paramLabel = "URL", descriptionKey = "schema.registry.url")
    String registryUrl;

    @Option(names = "--application-id", paramLabel = "ID", descriptionKey = "application.id")
    String applicationId;

    @Option(names = "--topic-prefix", paramLabel = "PREFIX", descriptionKey = "topics.prefix")
    String topicPrefix;

    @Option(names = "--partitions", paramLabel = "N", descriptionKey = "topics.partitions")
    String partitions;

    @Option(names = "--replication-factor", paramLabel = "N", descriptionKey = "topics.replication-factor")
    String replicationFactor;

    @Mixin
    MiningOptions mining;

    @Option(names = "--memory-max-bytes", paramLabel = "BYTES", descriptionKey = "memory.max-bytes")
    String memoryMaxBytes;

    @Option(names = "--memory-keep-warm", paramLabel = "DURATION", descriptionKey = "memory.keep-warm")
    String memoryKeepWarm;

    @Option(names = "--shards-per-job", paramLabel = "N", descriptionKey = "shards.per-job")
    String shards;

    @Option(names = "--stats-window", paramLabel = "DURATION", descriptionKey = "stats.window")
    String statsWindow;

    @Option(names = "--processing-guarantee", paramLabel = "G", descriptionKey = "processing.guarantee")
    String guarantee;

    @Option(names = "--http-port", paramLabel = "PORT", descriptionKey = "http.port")
    String httpPort;

    @Option(names = "--http-bind", paramLabel = "ADDRESS", descriptionKey = "http.bind")
    String httpBind;

    @Option(names = "--http-token", paramLabel = "TOKEN", descriptionKey = "http.token")
    String httpToken;

    @Option(names = "--kafka", paramLabel = "KEY=VALUE",
            description = "A Kafka client or Streams setting, passed through (same as kafka.KEY in the file).")
    Map<String, String> kafka = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        ServiceSettings settings;
        try {
            settings = ServiceSettings.resolve(file(), System.getenv(), flags());
        } catch (ConfigException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        CountDownLatch stop = new CountDownLatch(1);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Signals.onTermination(stop::countDown);
        try (ServiceInstance instance = start(settings)) {
            // Kafka Streams that stopped on an error mines nothing more: exit non-zero so that a
            // supervisor sees it and restarts the service, instead of waiting for a signal forever.
            instance.miner().failure().thenAccept(e -> {
                failed.set(e);
                stop.countDown();
            });
            ServiceConfig config = instance.config();
            System.err.println("hardmine run: http on " + instance.web().url() + " (/metrics, /health, /ready"
                    + (settings.http().token() == null ? ")" : "; /api and /metrics need the token)"));
            System.err.println("hardmine run: mining " + config.topics().embeddings() + " as "
                    + config.applicationId() + " on " + config.bootstrapServers());
            stop.await();
            System.err.println("hardmine run: stopping");
        }
        Throwable e = failed.get();
        if (e != null) {
            throw new IllegalStateException("Kafka Streams stopped on an error: " + e, e);
        }
        return 0;
    }

    private static ServiceInstance start(ServiceSettings settings) throws IOException {
        try {
            return ServiceInstance.start(settings.service(), settings.http());
        } catch (BindException e) {
            HttpSettings http = settings.http();
            throw new IllegalStateException("cannot listen on " + http.bind() + ":" + http.port()
                    + " (--http-port, --http-bind): " + e.getMessage(), e);
        }
    }

    private Map<String, String> file() throws IOException {
        if (config == null) {
            return Map.of();
        }
        if (!Files.isRegularFile(config)) {
            throw new ParameterException(spec.commandLine(), "--config " + config + ": no such file");
        }
        return ServiceSettings.load(config);
    }

    /** The keys the flags give, {@code --kafka} ones with their prefix. */
    private Map<String, String> flags() {
        Map<String, String> flags = SettingFlags.given(spec);
        kafka.forEach((key, value) -> flags.put(ServiceConfig.KAFKA_PREFIX + key, value));
        return flags;
    }
}
