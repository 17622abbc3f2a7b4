package dev.hardmine.testing;

import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.mining.JobMiner;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code hardmine demo} as a child process on the test's classpath, on free ports, as a user runs
 * it: started, waited for until its ready line, stopped with SIGTERM on close.
 */
public final class DemoProcess implements AutoCloseable {
    public static final Pattern READY = Pattern.compile(
            "hardmine demo ready: kafka=(\\S+) registry=(\\S+) dashboard=(\\S+)");

    private final Process process;
    private final Path stderr;
    private final Matcher ready;

    private DemoProcess(Process process, Path stderr, Matcher ready) {
        this.process = process;
        this.stderr = stderr;
        this.ready = ready;
    }

    /**
     * Starts {@code demo --kafka-port P --registry-port P --http-port P ARGS…} (three free ports)
     * with {@code env} added to the environment, and waits up to 60 s for its ready line.
     *
     * @param dir a directory of the test's own: the demo's temporary directory and its stderr go there
     */
    public static DemoProcess start(Path dir, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        int[] ports = EmbeddedKafkaBroker.freePorts(3, 0);
        List<String> demo = new ArrayList<>(List.of("demo",
                "--kafka-port", "" + ports[0], "--registry-port", "" + ports[1], "--http-port", "" + ports[2]));
        demo.addAll(List.of(args));
        List<String> cmd = HardmineProcesses.command(
                List.of("-Xmx1g", JobMiner.VECTOR_MODULE_OPTION, // as the test JVM, with or without the launcher
                        "-Djava.io.tmpdir=" + Files.createDirectories(dir.resolve("tmp"))),
                demo.toArray(String[]::new));
        Path stderr = dir.resolve("demo.stderr");
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectError(stderr.toFile());
        HardmineProcesses.sameKernelsAsThisJvm(builder.environment()); // tests replay what it mined
        builder.environment().putAll(env);
        Process p = builder.start();
        List<String> before = new ArrayList<>();
        Matcher ready = awaitReady(p, before);
        if (ready == null) {
            p.destroyForcibly();
            throw new IllegalStateException("no ready line within 60 s (got " + before + "); stderr:\n"
                    + Files.readString(stderr));
        }
        return new DemoProcess(p, stderr, ready);
    }

    /**
     * Waits up to 60 s for the ready line of a demo process and returns it matched by {@link #READY},
     * or null; the lines before it go to {@code before}. The ready line is the demo's first line of
     * its own, but the logging library may print its status before it (it does when two test
     * configurations are on the classpath).
     */
    public static Matcher awaitReady(Process p, List<String> before) throws InterruptedException {
        BlockingQueue<String> lines = lines(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String line;
        while ((line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) != null) {
            Matcher m = READY.matcher(line);
            if (m.matches()) {
                return m;
            }
            before.add(line);
        }
        return null;
    }

    /** The lines a process writes to its standard output, as they come, read by a daemon thread. */
    public static BlockingQueue<String> lines(Process p) {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process ended
            }
        });
        t.setDaemon(true);
        t.start();
        return lines;
    }

    public String bootstrapServers() {
        return ready.group(1);
    }

    public String registryUrl() {
        return ready.group(2);
    }

    /** The dashboard's URL, ending in {@code /}. */
    public String httpUrl() {
        return ready.group(3);
    }

    /** The demo's process id, e.g. for {@code jcmd}. */
    public long pid() {
        return process.pid();
    }

    public String stderr() {
        try {
            return Files.readString(stderr);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGTERM, then up to 15 s for the demo's orderly stop (forcibly after that). */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
