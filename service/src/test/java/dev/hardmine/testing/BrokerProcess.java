package dev.hardmine.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.demo.EmbeddedKafkaBroker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A single-node KRaft broker in a child process of the test, on a fixed port and log directory, so
 * that it can be killed and started again as the same broker with the same data.
 */
public final class BrokerProcess implements AutoCloseable {
    private static final String READY = "broker ready";

    private final int port;
    private final Path logDir;
    private final Path output;
    private Process process;

    private BrokerProcess(int port, Path logDir, Path output) {
        this.port = port;
        this.logDir = logDir;
        this.output = output;
    }

    /** Starts a broker on a free port with its log directory and output under {@code dir}. */
    public static BrokerProcess start(Path dir) throws IOException, InterruptedException {
        BrokerProcess broker = new BrokerProcess(EmbeddedKafkaBroker.freePort(), dir.resolve("broker-logs"), dir.resolve("broker.out"));
        broker.restart();
        return broker;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** Kills the broker at once (SIGKILL): no controlled shutdown, whatever is in flight is cut off. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        assertThat(process.isAlive()).as("broker killed").isFalse();
    }

    /** Starts the broker (again) on its port and log directory, and waits until it serves. */
    public void restart() throws IOException, InterruptedException {
        process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                BrokerProcess.class.getName(), Integer.toString(port), logDir.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile())).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int readyLines = readyLines();
        while (readyLines() == readyLines) {
            assertThat(process.isAlive()).as("broker exited:%n%s", Files.readString(output)).isTrue();
            assertThat(System.nanoTime()).as("broker ready within 60 s:%n%s", Files.readString(output))
                    .isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private int readyLines() throws IOException {
        return Files.exists(output)
                ? (int) Files.readAllLines(output, StandardCharsets.UTF_8).stream().filter(READY::equals).count()
                : 0;
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** The child: {@code PORT LOG_DIR}; prints {@value #READY} when it serves, runs until killed. */
    public static void main(String[] args) throws InterruptedException {
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().port(Integer.parseInt(args[0]))
                .logDir(Path.of(args[1])).start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.close();
            stopped.countDown();
        }));
        System.out.println(READY);
        System.out.flush();
        stopped.await();
    }
}
