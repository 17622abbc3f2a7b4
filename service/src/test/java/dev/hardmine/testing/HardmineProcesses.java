package dev.hardmine.testing;

import dev.hardmine.cli.HardmineCommand;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code hardmine} as a child process on the test's class path, as a user runs it, and what tests
 * need to know of its launcher (dev.hardmine.cli.Launcher), which may run the command in a second JVM
 * with faster OpenBLAS kernels.
 */
public final class HardmineProcesses {
    private HardmineProcesses() {
    }

    /** {@code java JVM_OPTIONS… -cp <the test's class path> dev.hardmine.cli.HardmineCommand ARGS…}, with this JVM's java. */
    public static List<String> command(List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), HardmineCommand.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /**
     * Keeps a child's mining on the test JVM's own OpenBLAS kernels, for tests that compare it with
     * mining in the test JVM (a replay): the products' rounding depends on the kernel set, so the
     * launcher's faster set would give other last bits. Where the environment names kernels, the
     * child inherits them and no launcher steps in; otherwise the launcher is switched off.
     */
    public static void sameKernelsAsThisJvm(Map<String, String> childEnvironment) {
        String coretype = System.getenv("OPENBLAS_CORETYPE");
        if (coretype == null || coretype.isBlank()) {
            childEnvironment.put("HARDMINE_RELAUNCH", "off");
        }
    }
}
