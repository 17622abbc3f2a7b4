package dev.hardmine.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.mining.BlasKernels;
import dev.hardmine.testing.DemoProcess;
import dev.hardmine.testing.HardmineProcesses;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher as a user meets it: {@code hardmine} started as {@code java -jar} would start it,
 * without the Vector API module and with no {@code OPENBLAS_CORETYPE} in its environment, as a
 * child process. The command runs in a second JVM with the module added (and the kernels named,
 * where OpenBLAS would choose slower ones than the CPU can run, as on the Zen 5 hosts of
 * docs/PERFORMANCE.md).
 */
class LauncherProcessTest {
    @TempDir
    Path dir;

    @Test
    void aMiningCommandRunsOnTheFastestKernelsTheCpuHas() throws Exception {
        Process bench = hardmine("bench", "--warmup", "1s", "--duration", "2s", "--publishers", "1",
                "--batch", "32", "--identities", "64", "--memory", "512", "--json").start();
        String out = new String(bench.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(bench.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(bench.exitValue()).as(stderr()).isZero();

        JsonNode report = new ObjectMapper().readTree(out);
        assertThat(report.at("/exactlyOnce/missing").asLong()).isZero();
        String kernels = report.at("/machine/blasKernels").asText().split(" ")[0];
        // Whatever the CPU: no faster set is left to choose, by the library or by the launcher.
        assertThat(BlasKernels.faster(kernels, BlasKernels.cpuFlags(Path.of("/proc/cpuinfo")), null))
                .as("kernels %s", kernels).isEmpty();
        // And the scans on the vectors the launcher's module gives.
        assertThat(report.at("/machine/anchorScans").asText()).startsWith("Vector API");
    }

    @Test
    void aUsageErrorKeepsItsMessageAndExitCode() throws Exception {
        Process bench = hardmine("bench", "--no-such-option").start();
        assertThat(bench.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(bench.exitValue()).isEqualTo(2);
        assertThat(stderr()).contains("Unknown option: '--no-such-option'", "Usage: hardmine bench");
    }

    @Test
    void sigtermReachesTheServiceWhichStopsInOrder() throws Exception {
        Process demo = startDemo();
        ProcessHandle service = secondJvm(demo);

        demo.destroy(); // SIGTERM to the launcher
        assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("launcher ended").isTrue();
        assertThat(demo.exitValue()).as(stderr()).isZero();
        assertThat(service.isAlive()).isFalse();
        assertThat(stderr()).contains("hardmine demo: stopping");
    }

    @Test
    void aKilledLauncherTakesTheServiceWithIt() throws Exception {
        Process demo = startDemo();
        ProcessHandle service = secondJvm(demo);

        demo.destroyForcibly(); // SIGKILL: nothing of the launcher runs any more
        assertThat(demo.waitFor(10, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> !service.isAlive());
        assertThat(stderr()).contains("hardmine: the launcher (pid " + demo.pid() + ") is gone; halting");
    }

    /** {@code hardmine ARGS…} on the test's class path, without OPENBLAS_CORETYPE; stderr to a file of the test's. */
    private ProcessBuilder hardmine(String... args) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(HardmineProcesses.command(
                List.of("-Xmx1g", "-Djava.io.tmpdir=" + Files.createDirectories(dir.resolve("tmp"))), args))
                .redirectError(dir.resolve("stderr").toFile());
        builder.environment().remove(Launcher.CORETYPE);
        builder.environment().remove(Launcher.SWITCH);
        builder.environment().remove(Launcher.LAUNCHER_PID);
        return builder;
    }

    private Process startDemo() throws Exception {
        int[] ports = EmbeddedKafkaBroker.freePorts(3, 0);
        Process demo = hardmine("demo", "--no-synthetic", "--kafka-port", "" + ports[0],
                "--registry-port", "" + ports[1], "--http-port", "" + ports[2]).start();
        List<String> before = new ArrayList<>();
        if (DemoProcess.awaitReady(demo, before) == null) {
            demo.destroyForcibly();
            throw new IllegalStateException("no ready line within 60 s (got " + before + "); stderr:\n" + stderr());
        }
        return demo;
    }

    /** The JVM the launcher started, to add the module this one lacks. */
    private ProcessHandle secondJvm(Process launcher) {
        List<ProcessHandle> children = launcher.children().toList();
        if (children.size() != 1) {
            launcher.destroyForcibly();
        }
        assertThat(children).as("the launcher's second JVM").hasSize(1);
        return children.get(0);
    }

    private String stderr() throws IOException {
        Path file = dir.resolve("stderr");
        return Files.exists(file) ? Files.readString(file) : "";
    }
}
