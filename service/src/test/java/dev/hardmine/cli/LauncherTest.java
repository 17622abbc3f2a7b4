package dev.hardmine.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When the launcher starts a second JVM, and with what (the processes themselves: LauncherProcessTest). */
class LauncherTest {
    private static final Map<String, String> PLAIN = Map.of("PATH", "/usr/bin");

    @Test
    void miningCommandsMayRunInASecondJvm() {
        for (String command : List.of("run", "demo", "bench", "replay")) {
            assertThat(Launcher.mayRelaunch(List.of(command, "--x", "1"), PLAIN, List.of("-Xmx1g")))
                    .as(command).isTrue();
        }
    }

    @Test
    void nothingElseDoes() {
        assertThat(Launcher.mayRelaunch(List.of(), PLAIN, List.of())).isFalse();
        assertThat(Launcher.mayRelaunch(List.of("help", "run"), PLAIN, List.of())).isFalse();
        assertThat(Launcher.mayRelaunch(List.of("--version"), PLAIN, List.of())).isFalse();
        assertThat(Launcher.mayRelaunch(List.of("bench", "--help"), PLAIN, List.of())).isFalse();
        assertThat(Launcher.mayRelaunch(List.of("run", "-h"), PLAIN, List.of())).isFalse();
    }

    @Test
    void theEnvironmentDecidesFirst() {
        List<String> run = List.of("run");
        // Kernels named by the environment are kept, but the JVM may still lack the Vector API module.
        assertThat(Launcher.mayRelaunch(run, Map.of("OPENBLAS_CORETYPE", "Haswell"), List.of())).isTrue();
        assertThat(Launcher.kernelsToSet(Map.of("OPENBLAS_CORETYPE", "Haswell"))).isEmpty();
        assertThat(Launcher.mayRelaunch(run, Map.of("HARDMINE_RELAUNCH", "off"), List.of())).isFalse();
        assertThat(Launcher.mayRelaunch(run, Map.of("HARDMINE_RELAUNCH", "OFF "), List.of())).isFalse();
        assertThat(Launcher.mayRelaunch(run, Map.of("HARDMINE_RELAUNCH", "on"), List.of())).isTrue();
        // A JVM a launcher started never starts another.
        assertThat(Launcher.mayRelaunch(run, Map.of("HARDMINE_LAUNCHER_PID", "42"), List.of())).isFalse();
    }

    @Test
    void optionsThatMustNotRunTwiceKeepTheCommandInThisJvm() {
        List<String> run = List.of("run");
        for (String option : List.of("-agentlib:jdwp=transport=dt_socket,server=y,address=5005",
                "-javaagent:/opt/agent.jar", "-agentpath:/opt/libprof.so", "-XX:StartFlightRecording=duration=60s",
                "-Xdebug", "-Xrunjdwp:transport=dt_socket")) {
            assertThat(Launcher.mayRelaunch(run, PLAIN, List.of("-Xmx1g", option))).as(option).isFalse();
        }
        assertThat(Launcher.mayRelaunch(run, PLAIN, List.of("-Xmx1g", "-Dx=y", "-XX:+UseG1GC"))).isTrue();
    }

    @Test
    void theChildRunsTheSameJavaOptionsClassPathAndArguments() {
        assertThat(Launcher.command("/jdk/bin/java", List.of("-Xmx1g", "-Dx=y"), "target/hardmine.jar",
                List.of("bench", "--duration", "2m")))
                .containsExactly("/jdk/bin/java", "-Xmx1g", "-Dx=y", "-cp", "target/hardmine.jar",
                        "dev.hardmine.cli.HardmineCommand", "bench", "--duration", "2m");
    }

    @Test
    void theChildGetsTheVectorModuleWhenThisJvmLacksIt() {
        assertThat(Launcher.childOptions(List.of("-Xmx1g"), true))
                .containsExactly("-Xmx1g", "--add-modules=jdk.incubator.vector");
        assertThat(Launcher.childOptions(List.of("-Xmx1g", "--add-modules=jdk.incubator.vector"), false))
                .containsExactly("-Xmx1g", "--add-modules=jdk.incubator.vector");
    }

    @Test
    void theChildsEnvironmentNamesTheKernelsAndTheLauncher() {
        Map<String, String> env = new HashMap<>(Map.of("PATH", "/usr/bin", "JDK_JAVA_OPTIONS", "-Dx=y",
                "JAVA_TOOL_OPTIONS", "-Dz=w"));
        Launcher.toChildEnvironment(env, Optional.of("SkylakeX"), 4711);
        // The options from the environment are among the JVM options already: not read a second time.
        assertThat(env).containsOnly(Map.entry("PATH", "/usr/bin"), Map.entry("OPENBLAS_CORETYPE", "SkylakeX"),
                Map.entry("HARDMINE_LAUNCHER_PID", "4711"));
    }

    @Test
    void aChildStartedForTheModuleAloneKeepsTheEnvironmentsKernels() {
        Map<String, String> env = new HashMap<>(Map.of("PATH", "/usr/bin", "OPENBLAS_CORETYPE", "Haswell"));
        Launcher.toChildEnvironment(env, Optional.empty(), 4711);
        assertThat(env).containsOnly(Map.entry("PATH", "/usr/bin"), Map.entry("OPENBLAS_CORETYPE", "Haswell"),
                Map.entry("HARDMINE_LAUNCHER_PID", "4711"));
    }
}
