package dev.hardmine.cli;

import dev.hardmine.mining.BlasKernels;
import dev.hardmine.mining.JobMiner;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Runs a mining command ({@code run}, {@code demo}, {@code bench}, {@code replay}) in a second JVM
 * that mines faster, when this one cannot be made to:
 * <ul>
 *   <li>with {@code OPENBLAS_CORETYPE} set, when the OpenBLAS under ND4J would choose slower kernels
 *       than the CPU can run and the environment names none ({@link BlasKernels#fasterHere}): on a
 *       Zen 5 host the library takes its SSE kernels by itself, and a user who set nothing got
 *       15 121 embeddings/s where the AVX-512 kernels give about 31 000 (docs/PERFORMANCE.md). The
 *       library reads the variable only when it loads.</li>
 *   <li>with {@code --add-modules jdk.incubator.vector} ({@link JobMiner#VECTOR_MODULE}), when this
 *       JVM was started without it and the runtime has it: the anchor scans run on the Vector API
 *       with it, in plain Java (the same results, slower) without. {@code java -jar} has no way to
 *       add a module.</li>
 * </ul>
 * The same {@code java}, JVM options, class path and arguments, with what was missing added.
 *
 * <p>The first JVM stays, as the second's launcher, and is transparent to whoever started it: the
 * child inherits standard input, output and error; SIGTERM and SIGINT are passed on to it as SIGTERM
 * (the command stops in order and exits 0); the launcher exits with the child's exit code; and the
 * child halts within {@value #WATCH_MILLIS} ms once its launcher is gone, so that a SIGKILL of the
 * process a user started still ends the service at once, as it did without a launcher.
 *
 * <p>There is no second JVM when {@code HARDMINE_RELAUNCH=off}, when the command does not mine or
 * asks for help, when the JVM runs an agent, a debugger or a flight recording (they would run
 * twice), or when this JVM has the module and its kernels are the fastest or named by the
 * environment.
 */
public final class Launcher {
    /** {@code off} in the environment: run every command in the JVM it was started in. */
    public static final String SWITCH = "HARDMINE_RELAUNCH";
    /** In the child's environment: the launcher's process id. */
    static final String LAUNCHER_PID = "HARDMINE_LAUNCHER_PID";
    public static final String CORETYPE = "OPENBLAS_CORETYPE";
    static final long WATCH_MILLIS = 100;

    private static final Set<String> MINING = Set.of("run", "demo", "bench", "replay");
    private static final Set<String> HELP = Set.of("-h", "--help", "-V", "--version");
    /** JVM options whose effect must not happen twice: agents, debuggers, flight recordings. */
    private static final List<String> ONCE_ONLY = List.of("-agentlib", "-agentpath", "-javaagent", "-Xrunjdwp",
            "-Xdebug", "-XX:StartFlightRecording", "-XX:+FlightRecorder");
    /** Options the java launcher reads from the environment: the child gets them on its command line. */
    private static final List<String> OPTIONS_FROM_ENVIRONMENT = List.of("JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS");

    private Launcher() {
    }

    /**
     * Whether {@code args} may run in a second JVM at all: a mining command, no help asked, no
     * launcher switched off or already above this JVM in {@code env}, no JVM option that must not run twice.
     */
    static boolean mayRelaunch(List<String> args, Map<String, String> env, List<String> jvmOptions) {
        return !args.isEmpty() && MINING.contains(args.get(0))
                && args.stream().noneMatch(HELP::contains)
                && !"off".equalsIgnoreCase(env.getOrDefault(SWITCH, "").trim())
                && !env.containsKey(LAUNCHER_PID)
                && jvmOptions.stream().noneMatch(option -> ONCE_ONLY.stream().anyMatch(option::startsWith));
    }

    /**
     * {@code java JVM_OPTIONS… -cp CLASS_PATH dev.hardmine.cli.HardmineCommand ARGS…} with this JVM's
     * {@code java} and class path: the child's command line, and the tests' way to start {@code hardmine}.
     */
    public static List<String> commandHere(List<String> jvmOptions, List<String> args) {
        return command(Path.of(System.getProperty("java.home"), "bin", "java").toString(), jvmOptions,
                System.getProperty("java.class.path"), args);
    }

    /** The command line of {@link #commandHere} for a given {@code java} and class path. */
    static List<String> command(String java, List<String> jvmOptions, String classPath, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classPath);
        command.add(HardmineCommand.class.getName());
        command.addAll(args);
        return command;
    }

    /**
     * The kernels a second JVM would name: faster ones than the library's own choice, when the
     * environment names none (loads the library: about 0.2 s).
     */
    static Optional<String> kernelsToSet(Map<String, String> env) {
        return env.getOrDefault(CORETYPE, "").isBlank() ? BlasKernels.fasterHere() : Optional.empty();
    }

    /** The child's JVM options: this JVM's, and the Vector API module when {@code addModule}. */
    static List<String> childOptions(List<String> jvmOptions, boolean addModule) {
        List<String> options = new ArrayList<>(jvmOptions);
        if (addModule) {
            options.add(JobMiner.VECTOR_MODULE_OPTION);
        }
        return options;
    }

    /**
     * Turns the launcher's environment into the child's: the kernels (if any) and the launcher's pid
     * added, the options the java launcher would read again removed (they are among the JVM options already).
     */
    static void toChildEnvironment(Map<String, String> env, Optional<String> coretype, long launcherPid) {
        OPTIONS_FROM_ENVIRONMENT.forEach(env::remove);
        coretype.ifPresent(kernels -> env.put(CORETYPE, kernels));
        env.put(LAUNCHER_PID, Long.toString(launcherPid));
    }

    /**
     * Runs {@code args} in a child JVM when that mines faster (see the class comment), and returns its
     * exit code; empty when the command is to run in this JVM (also when the child cannot be started:
     * the command then runs here, with whatever this JVM lacks, which the service warns about).
     */
    static OptionalInt runInChild(String[] args) {
        List<String> jvmOptions = ManagementFactory.getRuntimeMXBean().getInputArguments();
        if (!mayRelaunch(List.of(args), System.getenv(), jvmOptions)) {
            return OptionalInt.empty();
        }
        // Only a module the runtime has: a JRE linked without it would refuse to start the child.
        boolean addModule = !JobMiner.vectorModuleLoaded()
                && ModuleFinder.ofSystem().find(JobMiner.VECTOR_MODULE).isPresent();
        Optional<String> coretype = kernelsToSet(System.getenv());
        if (coretype.isEmpty() && !addModule) {
            return OptionalInt.empty();
        }
        ProcessBuilder builder = new ProcessBuilder(commandHere(childOptions(jvmOptions, addModule), List.of(args)))
                .inheritIO();
        toChildEnvironment(builder.environment(), coretype, ProcessHandle.current().pid());
        Process child;
        try {
            child = builder.start();
        } catch (IOException e) {
            System.err.println("hardmine: cannot start a second JVM for faster mining, running in this one: "
                    + e.getMessage());
            return OptionalInt.empty();
        }
        Signal.handle(new Signal("TERM"), s -> child.destroy());
        Signal.handle(new Signal("INT"), s -> child.destroy());
        while (true) {
            try {
                return OptionalInt.of(child.waitFor());
            } catch (InterruptedException e) {
                // Nothing interrupts the main thread; keep waiting for the child, whose code is ours.
            }
        }
    }

    /**
     * In a JVM a launcher started: logs the kernels it was started with, and halts as soon as the
     * launcher is gone, which only a kill of the launcher makes happen (it waits for its child
     * otherwise). Does nothing in any other JVM.
     */
    static void watchLauncher() {
        String given = System.getenv(LAUNCHER_PID);
        if (given == null) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(given.trim());
        } catch (NumberFormatException e) {
            return;
        }
        Optional<ProcessHandle> launcher = ProcessHandle.current().parent().filter(parent -> parent.pid() == pid);
        if (launcher.isEmpty()) {
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                return; // the variable reached a process of ours by another way: that launcher is not our parent
            }
            halt(pid); // killed before we looked
        }
        LoggerFactory.getLogger(Launcher.class).info("started by hardmine's launcher (pid {}) for faster mining: "
                + "OPENBLAS_CORETYPE={}, the {} module {}; HARDMINE_RELAUNCH=off runs every command in one JVM",
                pid, System.getenv(CORETYPE), JobMiner.VECTOR_MODULE,
                JobMiner.vectorModuleLoaded() ? "loaded" : "missing");
        Thread watch = new Thread(() -> {
            while (launcher.get().isAlive()) {
                try {
                    Thread.sleep(WATCH_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
            halt(pid);
        }, "hardmine-launcher-watch");
        watch.setDaemon(true);
        watch.start();
    }

    private static void halt(long launcherPid) {
        System.err.println("hardmine: the launcher (pid " + launcherPid + ") is gone; halting");
        Runtime.getRuntime().halt(1);
    }
}
