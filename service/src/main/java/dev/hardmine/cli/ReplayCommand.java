package dev.hardmine.cli;

import dev.hardmine.mining.NeighborSettings;
import dev.hardmine.replay.AvroFileBatchSource;
import dev.hardmine.replay.BatchSource;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.replay.JsonLinesBatchSource;
import dev.hardmine.replay.KafkaBatchSource;
import dev.hardmine.replay.MinedBatchSink;
import dev.hardmine.replay.MinedBatchSinks;
import dev.hardmine.replay.Replayer;
import dev.hardmine.stream.InputLimits;
import dev.hardmine.stream.JobSettings;
import dev.hardmine.stream.ServiceConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code hardmine replay}: mine a recorded embedding log offline with the stream's code path. */
@Command(name = "replay", mixinStandardHelpOptions = true, sortOptions = false, resourceBundle = SettingFlags.HELP,
        description = {"Mine a recorded log of EmbeddingBatch records offline, with the same code as the stream.",
            "Writes one MinedBatch per input batch, in input order. The output is identical for identical",
            "input and settings, except mined_at and mining_ms."})
public final class ReplayCommand implements Callable<Integer> {
    /** Neighbours kept per identity for --neighbors-output unless --neighbors-per-identity says otherwise. */
    static final int REPLAY_NEIGHBORS_PER_IDENTITY = 8;

    enum Format { jsonl, avro }

    @Spec
    CommandSpec spec;

    private SchemaRegistryClient registry;

    @Option(names = "--input", required = true, paramLabel = "PATH",
            description = "The recorded log: a file, - for standard input (jsonl only), or kafka:TOPIC.")
    String input;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT", description = "Kafka, for --input kafka:TOPIC.")
    String bootstrapServers;

    @Option(names = "--schema-registry-url", paramLabel = "URL",
            description = "Schema registry (http(s)://… or mock://NAME), for --input kafka:TOPIC.")
    String registryUrl;

    @Option(names = "--from-offset", paramLabel = "N", description = "kafka: first offset of every partition.")
    Long fromOffset;

    @Option(names = "--from-timestamp", paramLabel = "EPOCH_MS",
            description = "kafka: start at the first record at or after this time.")
    Long fromTimestamp;

    @Option(names = "--to-offset", paramLabel = "N", description = "kafka: stop before this offset of every partition.")
    Long toOffset;

    @Option(names = "--to-timestamp", paramLabel = "EPOCH_MS", description = "kafka: stop at records from this time on.")
    Long toTimestamp;

    @Option(names = "--kafka", paramLabel = "KEY=VALUE",
            description = "A Kafka consumer setting, passed through (security settings included); the registry "
                    + "client reads its own from them too (basic.auth.user.info, schema.registry.ssl.truststore.location, …).")
    java.util.Map<String, String> kafka = new java.util.LinkedHashMap<>();

    @Option(names = "--input-format", paramLabel = "FORMAT", defaultValue = "jsonl",
            description = "jsonl (one EmbeddingBatch per line) or avro (object container file) (default: ${DEFAULT-VALUE}).")
    Format inputFormat;

    @Option(names = "--output", paramLabel = "PATH", defaultValue = "-",
            description = "Where MinedBatch records go: a file (written only when the replay completes) or - for "
                    + "standard output (default: ${DEFAULT-VALUE}).")
    String output;

    @Option(names = "--output-format", paramLabel = "FORMAT", defaultValue = "jsonl",
            description = "jsonl or avro (default: ${DEFAULT-VALUE}).")
    Format outputFormat;

    @Option(names = "--neighbors-output", paramLabel = "PATH",
            description = "Also write the hard-identity neighbours the service would publish, as JSON lines of "
                    + "IdentityNeighbors, to this file (with --neighbors-per-identity, default 8 here).")
    String neighborsOutput;

    @Mixin
    MiningOptions mining;

    @Option(names = "--max-batch-size", paramLabel = "N", defaultValue = "" + InputLimits.DEFAULT_MAX_BATCH_SIZE,
            description = "Reject batches with more samples (default: ${DEFAULT-VALUE}).")
    int maxBatchSize;

    @Option(names = "--max-dim", paramLabel = "N", defaultValue = "" + InputLimits.DEFAULT_MAX_DIM,
            description = "Reject batches with a larger dim (default: ${DEFAULT-VALUE}).")
    int maxDim;

    @Option(names = "--max-id-length", paramLabel = "N", defaultValue = "" + InputLimits.DEFAULT_MAX_ID_LENGTH,
            description = "Reject batches with a longer id or label (default: ${DEFAULT-VALUE}).")
    int maxIdLength;

    @Option(names = "--memory-max-bytes", paramLabel = "BYTES", defaultValue = "" + ServiceConfig.DEFAULT_MEMORY_MAX_BYTES,
            description = "Memory budget per job, as the service applies it (default: ${DEFAULT-VALUE}).")
    long memoryMaxBytes;

    @Override
    public Integer call() throws Exception {
        JobSettings job = validated(() -> ServiceConfig.jobDefaults(SettingFlags.resolve(spec, System.getenv(),
                Map.of("neighbors.per-identity", Integer.toString(REPLAY_NEIGHBORS_PER_IDENTITY)))));
        var settings = job.mining();
        var limits = job.memory();
        var inputLimits = validated(() -> new InputLimits(maxBatchSize, maxDim, maxIdLength));
        var neighbors = job.neighbors();
        if (neighborsOutput != null && !neighbors.enabled()) {
            throw new ParameterException(spec.commandLine(), "--neighbors-output needs --neighbors-per-identity > 0");
        }
        boolean toStdout = "-".equals(output);
        if (toStdout && outputFormat == Format.avro) {
            throw new ParameterException(spec.commandLine(), "--output-format avro needs an --output file");
        }
        try (AutoCloseable closeRegistry = () -> {
                if (registry != null) {
                    registry.close();
                }
            };
             BatchSource source = openSource();
             MinedBatchSink sink = withNeighbors(toStdout ? MinedBatchSinks.jsonLines(System.out)
                     : MinedBatchSinks.file(Path.of(output), outputFormat == Format.avro), neighbors);
             Replayer replayer = new Replayer(settings, limits, inputLimits, memoryMaxBytes, Clock.systemUTC())) {
            long batches = replayer.replay(source, sink);
            if (!toStdout) {
                System.err.println("hardmine replay: " + batches + " batches mined into " + output);
            }
        }
        return 0;
    }

    private MinedBatchSink withNeighbors(MinedBatchSink sink, NeighborSettings neighbors) throws IOException {
        return neighborsOutput == null ? sink : MinedBatchSinks.withNeighbors(sink, Path.of(neighborsOutput), neighbors);
    }

    private BatchSource openSource() throws Exception {
        if (input.startsWith("kafka:")) {
            if (bootstrapServers == null || registryUrl == null) {
                throw new ParameterException(spec.commandLine(),
                        "--input kafka:TOPIC needs --bootstrap-servers and --schema-registry-url");
            }
            java.util.Map<String, Object> props = new java.util.HashMap<>(kafka);
            props.put("bootstrap.servers", bootstrapServers);
            // The registry client's own settings (basic.auth.user.info, schema.registry.ssl.…) come
            // with the Kafka ones, as for run.
            java.util.Map<String, Object> registrySettings = new java.util.HashMap<>(kafka);
            registrySettings.put(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl);
            registry = SchemaRegistryClient.create(validated(() -> SerdeConfig.fromMap(registrySettings)).client());
            return new KafkaBatchSource(props, input.substring("kafka:".length()), registry,
                    new KafkaBatchSource.Range(fromOffset, fromTimestamp, toOffset, toTimestamp));
        }
        if ("-".equals(input)) {
            if (inputFormat == Format.avro) {
                throw new ParameterException(spec.commandLine(), "--input-format avro needs an --input file");
            }
            return new JsonLinesBatchSource(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
        }
        Path path = Path.of(input);
        if (!Files.isRegularFile(path)) {
            throw new ParameterException(spec.commandLine(), "--input " + input + ": no such file");
        }
        return inputFormat == Format.avro ? new AvroFileBatchSource(path.toFile())
                : new JsonLinesBatchSource(Files.newBufferedReader(path, StandardCharsets.UTF_8));
    }

    private <T> T validated(java.util.function.Supplier<T> build) {
        try {
            return build.get();
        } catch (ConfigException | IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }
}
