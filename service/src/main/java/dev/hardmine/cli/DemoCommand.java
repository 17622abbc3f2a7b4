package dev.hardmine.cli;

import dev.hardmine.demo.Demo;
import dev.hardmine.demo.SyntheticTrainers;
import dev.hardmine.stream.JobSettings;
import dev.hardmine.stream.ServiceConfig;
import dev.hardmine.web.HttpSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code hardmine demo}: broker, registry, miner, dashboard and synthetic trainers on this machine. */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false, resourceBundle = SettingFlags.HELP,
        description = {"Run everything on this machine: a real Kafka broker (KRaft), a Confluent-compatible",
            "schema registry, the miner, the dashboard, and synthetic trainers that close the loop.",
            "Prints one ready line; stops cleanly on SIGTERM or Ctrl-C (exit code 0)."})
public final class DemoCommand implements Callable<Integer> {
    /** The demo keeps confusable identities unless told otherwise, so that its dashboard shows them. */
    static final int DEMO_NEIGHBORS_PER_IDENTITY = 8;

    @Spec
    CommandSpec spec;

    @Option(names = "--kafka-port", paramLabel = "PORT", defaultValue = "9092",
            description = "Kafka listener on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    int kafkaPort;

    @Option(names = "--registry-port", paramLabel = "PORT", defaultValue = "8081",
            description = "Schema registry on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    int registryPort;

    @Option(names = "--http-port", paramLabel = "PORT", descriptionKey = "http.port")
    String httpPort;

    @Option(names = "--http-bind", paramLabel = "ADDRESS", descriptionKey = "http.bind")
    String httpBind;

    @Option(names = "--http-token", paramLabel = "TOKEN", descriptionKey = "http.token")
    String httpToken;

    @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "0",
            description = "Stop after this many seconds; 0 = until stopped (default: ${DEFAULT-VALUE}).")
    long durationSeconds;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Keep the broker's and the miner's data here across runs (default: a temporary "
                    + "directory, deleted on exit). The broker keeps the last 15 minutes of the embeddings, "
                    + "mined, stats and dead-letter topics; job settings, schemas and the memory are kept whole.")
    Path dataDir;

    @Option(names = "--no-synthetic", description = "Leave out the synthetic trainers, e.g. to connect your own.")
    boolean noSynthetic;

    @Option(names = "--jobs", paramLabel = "N", defaultValue = "2",
            description = "Synthetic training jobs, demo-job, demo-job-2, … (default: ${DEFAULT-VALUE}).")
    int jobs;

    @Option(names = "--workers", paramLabel = "W", defaultValue = "2",
            description = "Synthetic training workers per job (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--identities", paramLabel = "N", defaultValue = "2000",
            description = "Identities in the synthetic dataset (default: ${DEFAULT-VALUE}).")
    int identities;

    @Option(names = "--images-per-identity", paramLabel = "K", defaultValue = "8",
            description = "Images per identity in the synthetic dataset (default: ${DEFAULT-VALUE}).")
    int imagesPerIdentity;

    @Option(names = "--dim", paramLabel = "D", defaultValue = "128",
            description = "Embedding dimension of the synthetic model (default: ${DEFAULT-VALUE}).")
    int dim;

    @Option(names = "--batch-identities", paramLabel = "P", defaultValue = "16",
            description = "Identities per synthetic batch, P of P×K sampling (default: ${DEFAULT-VALUE}).")
    int batchIdentities;

    @Option(names = "--batch-images", paramLabel = "K", defaultValue = "4",
            description = "Images per identity in a synthetic batch (default: ${DEFAULT-VALUE}).")
    int batchImages;

    @Option(names = "--interval-ms", paramLabel = "MS", defaultValue = "250",
            description = "Time between two batches of one synthetic worker (default: ${DEFAULT-VALUE}).")
    long intervalMs;

    @Option(names = "--max-in-flight", paramLabel = "N", defaultValue = "4",
            description = "A synthetic worker publishes only while fewer than N of its batches await their mined "
                    + "result, so the trainers never outrun the miner (default: ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--learning-steps", paramLabel = "STEPS", defaultValue = "600",
            description = "Steps over which the synthetic model's intra-class spread shrinks by e "
                    + "(default: ${DEFAULT-VALUE}).")
    double learningSteps;

    @Option(names = "--record", paramLabel = "FILE",
            description = "Record the embeddings topic into this Avro container file, for replay.")
    Path record;

    @Mixin
    MiningOptions mining;

    @Override
    public Integer call() throws Exception {
        Demo.Settings settings;
        try {
            Map<String, String> given = SettingFlags.resolve(spec, System.getenv(),
                    Map.of("neighbors.per-identity", Integer.toString(DEMO_NEIGHBORS_PER_IDENTITY)));
            JobSettings job = ServiceConfig.jobDefaults(given);
            HttpSettings http = HttpSettings.from(given);
            settings = new Demo.Settings(kafkaPort, registryPort, http.port(), http.bind(), dataDir, !noSynthetic,
                    new SyntheticTrainers.Settings("demo-job", workers, batchIdentities, batchImages, 16,
                            Duration.ofMillis(intervalMs), 7, maxInFlight),
                    jobs, identities, imagesPerIdentity, dim, learningSteps, job.mining(), job.memory(),
                    job.neighbors(), record, http.token());
        } catch (ConfigException | IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        CountDownLatch stop = new CountDownLatch(1);
        Signals.onTermination(stop::countDown);
        try (Demo demo = Demo.start(settings)) {
            System.out.println(demo.readyLine());
            System.out.flush();
            if (durationSeconds > 0) {
                stop.await(durationSeconds, TimeUnit.SECONDS);
            } else {
                stop.await();
            }
            for (SyntheticTrainers t : demo.trainers()) {
                System.err.println("hardmine demo: " + t.jobId() + ": trainers published " + t.published()
                        + " batches, received " + t.minedReceived() + " mined batches, fed " + t.fedSamples()
                        + " mined samples into later batches");
            }
            System.err.println("hardmine demo: stopping");
        } catch (Demo.PortInUseException e) {
            spec.commandLine().getErr().println("hardmine demo: error: " + e.getMessage());
            return 2;
        }
        return 0;
    }
}
