package dev.hardmine.testing;

import java.util.Map;

/**
 * What tests that run {@code hardmine} as a child process need to know of its launcher
 * (dev.hardmine.cli.Launcher), which may run the command in a second JVM with faster OpenBLAS kernels.
 */
public final class HardmineProcesses {
    private HardmineProcesses() {
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
