package dev.hardmine.testing;

import dev.hardmine.cli.Launcher;
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
        return Launcher.commandHere(jvmOptions, List.of(args));
    }

    /**
     * Keeps a child's mining on the test JVM's own OpenBLAS kernels, for tests that compare it with
     * mining in the test JVM (a replay): the products' rounding depends on the kernel set, so the
     * launcher's faster set would give other last bits. Where the environment names kernels, the
     * child inherits them and no launcher steps in; otherwise the launcher is switched off.
     */
    public static void sameKernelsAsThisJvm(Map<String, String> childEnvironment) {
        String coretype = System.getenv(Launcher.CORETYPE);
        if (coretype == null || coretype.isBlank()) {
            childEnvironment.put(Launcher.SWITCH, "off");
        }
    }
}
