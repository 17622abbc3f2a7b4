package dev.hardmine.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardmine.mining.JobMiner;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * {@code hardmine run --config FILE} as a child process on the test's classpath, as it is deployed,
 * its output in a log file. Closing it kills what is still running.
 */
public final class RunProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private RunProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Writes {@code properties} to {@code dir/hardmine.properties}, starts {@code run} with it and
     * waits until it says it mines {@code embeddingsTopic}; fails with its output if it exits first.
     */
    public static RunProcess start(Path dir, Properties properties, String embeddingsTopic) throws IOException {
        return start(dir, properties, embeddingsTopic, List.of());
    }

    /** As {@link #start(Path, Properties, String)}, with more options for the JVM (e.g. {@code -Dlogback.configurationFile=…}). */
    public static RunProcess start(Path dir, Properties properties, String embeddingsTopic, List<String> jvmOptions)
            throws IOException {
        RunProcess run = launch(dir, properties, jvmOptions);
        await().atMost(LiveMining.TIMEOUT).until(() -> {
            assertThat(run.process.isAlive()).as("hardmine run exited early:%n%s", run.output()).isTrue();
            return run.output().contains("hardmine run: mining " + embeddingsTopic);
        });
        return run;
    }

    /** Writes {@code properties} to {@code dir/hardmine.properties} and starts {@code run} with it, without waiting. */
    public static RunProcess launch(Path dir, Properties properties, List<String> jvmOptions) throws IOException {
        Path config = dir.resolve("hardmine.properties");
        try (OutputStream out = Files.newOutputStream(config)) {
            properties.store(out, "hardmine run, integration test");
        }
        Path log = dir.resolve("run.log");
        // The Vector API as the test JVM has it: the launcher may be kept out (sameKernelsAsThisJvm).
        List<String> options = new ArrayList<>(List.of("-Xmx512m", JobMiner.VECTOR_MODULE_OPTION));
        options.addAll(jvmOptions);
        ProcessBuilder builder = new ProcessBuilder(HardmineProcesses.command(options, "run", "--config", config.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        // The reliability tests compare what it mines with replays in the test's JVM.
        HardmineProcesses.sameKernelsAsThisJvm(builder.environment());
        Process process = builder.start();
        return new RunProcess(process, log);
    }

    /** The base URL of its HTTP side, {@code http://HOST:PORT/}, as it printed it on start. */
    public String httpUrl() throws IOException {
        String marker = "hardmine run: http on ";
        String out = output();
        int at = out.indexOf(marker);
        assertThat(at).as("run printed its HTTP address:%n%s", out).isNotNegative();
        int start = at + marker.length();
        return out.substring(start, out.indexOf(' ', start));
    }

    public Process process() {
        return process;
    }

    /** Everything it printed so far. */
    public String output() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
