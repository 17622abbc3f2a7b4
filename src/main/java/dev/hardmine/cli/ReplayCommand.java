package dev.hardmine.cli;

import dev.hardmine.replay.AvroFileBatchSource;
import dev.hardmine.replay.BatchSource;
import dev.hardmine.replay.JsonLinesBatchSource;
import dev.hardmine.replay.MinedBatchSink;
import dev.hardmine.replay.MinedBatchSinks;
import dev.hardmine.replay.Replayer;
import dev.hardmine.stream.InputLimits;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code hardmine replay}: mine a recorded embedding log offline with the stream's code path. */
@Command(name = "replay", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Mine a recorded log of EmbeddingBatch records offline, with the same code as the stream.",
            "Writes one MinedBatch per input batch, in input order. The output is identical for identical",
            "input and settings, except mined_at and mining_ms."})
public final class ReplayCommand implements Callable<Integer> {

    enum Format { jsonl, avro }

    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "PATH",
            description = "The recorded log: a file, or - for standard input (jsonl only).")
    String input;

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

    @Mixin
    MiningOptions mining;

    @Option(names = "--max-batch-size", paramLabel = "N", defaultValue = "" + InputLimits.DEFAULT_MAX_BATCH_SIZE,
            description = "Reject batches with more samples (default: ${DEFAULT-VALUE}).")
    int maxBatchSize;

    @Option(names = "--max-dim", paramLabel = "N", defaultValue = "" + InputLimits.DEFAULT_MAX_DIM,
            description = "Reject batches with a larger dim (default: ${DEFAULT-VALUE}).")
    int maxDim;

    @Override
    public Integer call() throws Exception {
        var settings = validated(mining::settings);
        var limits = validated(mining::limits);
        var inputLimits = validated(() -> new InputLimits(maxBatchSize, maxDim));
        boolean toStdout = "-".equals(output);
        if (toStdout && outputFormat == Format.avro) {
            throw new ParameterException(spec.commandLine(), "--output-format avro needs an --output file");
        }
        try (BatchSource source = openSource();
             MinedBatchSink sink = toStdout ? MinedBatchSinks.jsonLines(System.out)
                     : MinedBatchSinks.file(Path.of(output), outputFormat == Format.avro);
             Replayer replayer = new Replayer(settings, limits, inputLimits, Clock.systemUTC())) {
            long batches = replayer.replay(source, sink);
            if (!toStdout) {
                System.err.println("hardmine replay: " + batches + " batches mined into " + output);
            }
        }
        return 0;
    }

    private BatchSource openSource() throws Exception {
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
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }
}
