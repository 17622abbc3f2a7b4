package dev.hardmine.demo;

import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.NeighborSettings;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.replay.EmbeddingRecorder;
import dev.hardmine.runtime.ServiceInstance;
import dev.hardmine.stream.JobSettings;
import dev.hardmine.stream.MinerService;
import dev.hardmine.stream.ServiceConfig;
import dev.hardmine.web.HttpSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.utils.Utils;

/**
 * Everything of hardmine on one machine: a real single-node KRaft broker, the schema registry
 * over HTTP, the mining service, the HTTP side and (optionally) synthetic trainers. Started in
 * order of dependence and stopped in reverse; a temporary data directory is deleted on close.
 */
public final class Demo implements AutoCloseable {

    /**
     * What to start. Port 0 picks a free port. With synthetic trainers, {@code jobs} training jobs
     * run side by side, each with the workers of {@code trainers} and a synthetic model of its own:
     * the first is {@code trainers.jobId()}, the others that id with {@code -2}, {@code -3}, …
     */
    public record Settings(int kafkaPort, int registryPort, int httpPort, String httpBind, Path dataDir,
                           boolean synthetic, SyntheticTrainers.Settings trainers, int jobs, int identities,
                           int imagesPerIdentity, int dim, double learningSteps, MiningSettings mining,
                           MemoryLimits memory, NeighborSettings neighbors, Path record, String httpToken) {
        public Settings {
            if (jobs < 1) {
                throw new IllegalArgumentException("need at least one job, got " + jobs);
            }
        }

        /** The id of job {@code i} (from 0). */
        public String jobId(int i) {
            return i == 0 ? trainers.jobId() : trainers.jobId() + "-" + (i + 1);
        }
    }

    /** A port that is taken, with the flag that chose it. */
    public static final class PortInUseException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PortInUseException(int port, String flag) {
            super("port " + port + " is in use (" + flag + ")");
        }
    }

    /** How long the demo's broker keeps the records of topics that are not compacted. */
    public static final Duration RETENTION = Duration.ofMinutes(15);

    private final List<AutoCloseable> started = new ArrayList<>();
    private final Path dataDir;
    private final boolean temporary;
    private EmbeddedKafkaBroker broker;
    private EmbeddedSchemaRegistry registry;
    private ServiceInstance instance;
    private final List<SyntheticTrainers> trainers = new ArrayList<>();

    private Demo(Path dataDir, boolean temporary) {
        this.dataDir = dataDir;
        this.temporary = temporary;
    }

    public static Demo start(Settings s) throws IOException, InterruptedException {
        checkFree(s.kafkaPort(), "--kafka-port");
        checkFree(s.registryPort(), "--registry-port");
        checkFree(s.httpPort(), "--http-port");
        boolean temporary = s.dataDir() == null;
        Path dir = temporary ? Files.createTempDirectory("hardmine-demo-") : s.dataDir();
        Files.createDirectories(dir);
        Demo demo = new Demo(dir, temporary);
        try {
            demo.startAll(s);
            return demo;
        } catch (IOException | InterruptedException | RuntimeException e) {
            demo.close();
            throw e;
        }
    }

    private static void checkFree(int port, String flag) {
        if (port == 0) {
            return;
        }
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            socket.setReuseAddress(true);
        } catch (IOException e) {
            throw new PortInUseException(port, flag);
        }
    }

    private void startAll(Settings s) throws IOException, InterruptedException {
        // The topics of records (embeddings, mined batches, statistics, dead letters) keep their last
        // 15 minutes, so that a demo left running does not fill the disk; compacted topics (job
        // settings, neighbours, schemas, the memory's changelog) keep their latest value per key.
        broker = EmbeddedKafkaBroker.builder().port(s.kafkaPort()).logDir(dataDir.resolve("kafka"))
                .brokerProperty("log.retention.ms", Long.toString(RETENTION.toMillis()))
                .brokerProperty("log.segment.bytes", Integer.toString(64 << 20))
                .brokerProperty("log.retention.check.interval.ms", "60000")
                .start();
        started.add(broker);
        registry = EmbeddedSchemaRegistry.builder().port(s.registryPort()).kafka(broker.bootstrapServers()).start();
        started.add(registry);

        ServiceConfig demo = ServiceConfig.from(Map.of(
                "application.id", "hardmine-demo",
                "bootstrap.servers", broker.bootstrapServers(),
                "schema.registry.url", registry.url(),
                "topics.partitions", "3",
                "topics.replication-factor", "1",
                "stats.window", "2s",
                "kafka.state.dir", dataDir.resolve("streams").toString(),
                "kafka.commit.interval.ms", "200"));
        ServiceConfig config = demo.withJob(new JobSettings(s.mining(), s.memory(), demo.shardsPerJob(),
                s.neighbors()));
        instance = ServiceInstance.start(config, new HttpSettings(s.httpBind(), s.httpPort(), s.httpToken()));
        started.add(instance);
        if (!instance.miner().awaitRunning(Duration.ofSeconds(60))) {
            throw new IllegalStateException("the mining service did not start within 60 s");
        }
        SchemaRegistryClient client = instance.registry();

        if (s.record() != null) {
            started.add(new EmbeddingRecorder(Map.of("bootstrap.servers", broker.bootstrapServers()),
                    config.topics().embeddings(), client, s.record()));
        }
        if (s.synthetic()) {
            for (int i = 0; i < s.jobs(); i++) {
                long seed = s.trainers().seed() + 1000L * i;
                SyntheticModel model = new SyntheticModel(s.identities(), s.imagesPerIdentity(), s.dim(),
                        s.learningSteps(), seed);
                SyntheticTrainers.Settings t = s.trainers();
                SyntheticTrainers job = new SyntheticTrainers(model, new SyntheticTrainers.Settings(s.jobId(i),
                        t.workers(), t.identitiesPerBatch(), t.imagesPerIdentity(), t.maxFed(), t.interval(), seed,
                        t.maxInFlight()),
                        config.topics(), broker.bootstrapServers(), client, SerdeConfig.of(registry.url()));
                started.add(job);
                trainers.add(job);
                job.start();
            }
        }
    }

    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    public String registryUrl() {
        return registry.url();
    }

    public String dashboardUrl() {
        return instance.web().url();
    }

    /** The synthetic trainers, one per job; none with {@code --no-synthetic}. */
    public List<SyntheticTrainers> trainers() {
        return List.copyOf(trainers);
    }

    public MinerService miner() {
        return instance.miner();
    }

    /** The line printed when everything is up. */
    public String readyLine() {
        return "hardmine demo ready: kafka=" + bootstrapServers() + " registry=" + registryUrl()
                + " dashboard=" + dashboardUrl();
    }

    /** Stops everything in reverse order of start, then deletes a temporary data directory. */
    @Override
    public void close() {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                System.err.println("hardmine demo: while stopping: " + e);
            }
        }
        started.clear();
        if (temporary) {
            deleteRecursively(dataDir);
        }
    }

    /** Deletes {@code dir} and everything below it, if it exists. */
    public static void deleteRecursively(Path dir) {
        try {
            Utils.delete(dir.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
