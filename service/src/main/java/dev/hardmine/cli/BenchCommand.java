package dev.hardmine.cli;

import dev.hardmine.bench.Bench;
import dev.hardmine.bench.BenchReport;
import dev.hardmine.stream.ServiceConfig;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code hardmine bench}: end-to-end throughput and latency of the mining service. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure the mining service end to end: publishers of pre-generated batches, the service",
            "as 'run' starts it, and a read_committed reader of the mined topic, against an embedded broker and",
            "registry (or a real cluster). Phases: warm-up, then capacity, a fixed --rate, a --sweep or an",
            "--overload. Checks that every published batch was mined exactly once (exit code 3 if not)."})
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
            description = "Use this Kafka cluster instead of an embedded broker (with --registry).")
    String bootstrap;

    @Option(names = "--registry", paramLabel = "URL", description = "The schema registry of that cluster.")
    String registry;

    @Option(names = "--publishers", paramLabel = "W", defaultValue = "4",
            description = "Publisher threads, each a training worker (default: ${DEFAULT-VALUE}).")
    int publishers;

    @Option(names = "--jobs", paramLabel = "N", defaultValue = "1",
            description = "Training jobs; publishers are dealt round-robin (default: ${DEFAULT-VALUE}).")
    int jobs;

    @Option(names = "--shards", paramLabel = "N", defaultValue = "1",
            description = "Identity shards per job (key shards.per-job, default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--dim", paramLabel = "D", defaultValue = "128", description = "Embedding dimension (default: ${DEFAULT-VALUE}).")
    int dim;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "256",
            description = "Samples per batch, B/4 identities × 4 (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--identities", paramLabel = "N", defaultValue = "1024",
            description = "Identities of the synthetic dataset (default: ${DEFAULT-VALUE}).")
    int identities;

    @Option(names = "--memory", paramLabel = "M", defaultValue = "16384",
            description = "Memory entries per job (key memory.max-embeddings, default: ${DEFAULT-VALUE}).")
    int memory;

    @Option(names = "--strategy", paramLabel = "NAME", defaultValue = "batch-hard",
            description = "Mining strategy (key mining.strategy, default: ${DEFAULT-VALUE}).")
    String strategy;

    @Option(names = "--rate", paramLabel = "EMB/S", defaultValue = "0",
            description = "Offer this many embeddings/s in the measured phase; 0 = measure capacity (default).")
    double rate;

    @Option(names = "--sweep", description = "After capacity, find the highest rate whose visible p99 stays under --p99-bound.")
    boolean sweep;

    @Option(names = "--p99-bound", paramLabel = "MS", defaultValue = "250",
            description = "The sweep's latency bound, ms (default: ${DEFAULT-VALUE}).")
    double p99Bound;

    @Option(names = "--overload", paramLabel = "X", defaultValue = "0",
            description = "After capacity, offer X times capacity for --duration, then measure capacity again once "
                + "the backlog is mined; 0 = none (default).")
    double overload;

    @Option(names = "--overload-rounds", paramLabel = "N", defaultValue = "1",
            description = "With --overload: run the overload phase and the capacity phase after it N times, and set "
                + "each overload phase against the capacity phases on either side of it, so that the host's drift over "
                + "the run weighs less (default: ${DEFAULT-VALUE}).")
    int overloadRounds;

    @Option(names = "--warmup", paramLabel = "DURATION", defaultValue = "30s",
            description = "Unreported warm-up at capacity: JIT, memory filling (default: ${DEFAULT-VALUE}).")
    String warmup;

    @Option(names = "--duration", paramLabel = "DURATION", defaultValue = "30s",
            description = "Length of each measured phase (default: ${DEFAULT-VALUE}).")
    String duration;

    @Option(names = "--slice", paramLabel = "DURATION", defaultValue = "0s",
            description = "Also report each phase in slices of this length, e.g. 60s for a 30-minute run (default: none).")
    String slice;

    @Option(names = "--max-in-flight", paramLabel = "N", defaultValue = "64",
            description = "Capacity phases: at most N batches published and not yet mined (default: ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--step-alone", paramLabel = "DURATION", defaultValue = "0s",
            description = {"Also time the job's mining step alone in this JVM, back to back with the service's settings "
                + "and shapes, for DURATION (half of it untimed) before the phases and again after them, and report "
                + "each phase's step in the service as a ratio to it; with --rate, also at that rate's pace, one step "
                + "every time a job's batch is due (default: not)."})
    String stepAlone;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Any service setting, as in run's --config file (e.g. kafka.commit.interval.ms=100).")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = "--json", description = "Print the report as JSON instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Bench.Settings settings;
        try {
            settings = new Bench.Settings(bootstrap, registry, publishers, jobs, shards, dim, batch, identities,
                    memory, strategy, rate, sweep, p99Bound, overload, overloadRounds,
                    ServiceConfig.parseDuration("--warmup", warmup),
                    ServiceConfig.parseDuration("--duration", duration), ServiceConfig.parseDuration("--slice", slice),
                    maxInFlight, ServiceConfig.parseDuration("--step-alone", stepAlone), set);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        BenchReport report = new Bench(settings, System.err).run();
        if (json) {
            System.out.println(report.toJson());
        } else {
            report.printTable(System.out);
        }
        System.out.flush();
        return report.exactlyOnce().holds() ? 0 : 3;
    }
}
