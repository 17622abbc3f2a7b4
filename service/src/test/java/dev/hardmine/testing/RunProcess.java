package dev.hardmine.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardmine.cli.HardmineCommand;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
        Path config = dir.resolve("hardmine.properties");
        try (OutputStream out = Files.newOutputStream(config)) {
            properties.store(out, "hardmine run, integration test");
        }
        Path log = dir.resolve("run.log");
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                HardmineCommand.class.getName(), "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        RunProcess run = new RunProcess(process, log);
        await().atMost(LiveMining.TIMEOUT).until(() -> {
            assertThat(process.isAlive()).as("hardmine run exited early:%n%s", run.output()).isTrue();
            return run.output().contains("hardmine run: mining " + embeddingsTopic);
        });
        return run;
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
