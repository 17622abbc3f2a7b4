package dev.hardmine.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the bench JVM's CPU time goes, thread by thread, from Linux's scheduler statistics: for each
 * thread ({@code /proc/self/task/TID}) its name ({@code comm}: the native name, the Java name cut to
 * 15 characters) and {@code schedstat} (nanoseconds on a CPU, nanoseconds runnable but waiting for
 * one, time slices). Two readings give each group of threads — the names with their digits folded,
 * so that {@code GC Thread#0} and {@code GC Thread#1} are one — in cores: on a CPU, and waiting for one.
 *
 * <p>The broker, the registry, the publishers and the reader run in the bench's JVM too, so the
 * groups show how the service's threads share the cores with them: the stream threads
 * ({@code hardmine-bench-}, the application id), the mining step's second thread
 * ({@code ForkJoinPool.co}, the common pool), the broker's ({@code data-plane-kafk} and others),
 * the Kafka clients' I/O ({@code kafka-producer-}), the JIT ({@code C# CompilerThre}: C1 and C2)
 * and GC's. A thread that ended between the readings is not counted; one that started is counted
 * from zero.
 */
final class ThreadTimes {
    /** The groups listed by name in a phase; the rest are summed into {@link #OTHER}. */
    static final int LISTED = 8;
    static final String ALL = "all";
    static final String OTHER = "other";

    private ThreadTimes() {
    }

    /** One thread at one reading. */
    record Sample(String name, long onCpuNanos, long waitingNanos, long slices) {
    }

    /** Every thread at one time: by thread id. */
    record Reading(long nanoTime, Map<Long, Sample> threads) {
    }

    /**
     * A group of threads over a phase.
     *
     * @param onCpuCores      time on a CPU over the phase's time, summed over the group
     * @param waitingCores    time runnable but waiting for a CPU, likewise
     * @param slicesPerSecond times the group's threads were put on a CPU, per second
     */
    record Group(String name, int threads, double onCpuCores, double waitingCores, double slicesPerSecond) {
    }

    /** The threads of this JVM now; empty where the system keeps no such statistics (not Linux). */
    static Optional<Reading> ofThisJvm() {
        return read(Path.of("/proc/self/task"));
    }

    /** The threads under {@code tasks}, a {@code /proc/PID/task} directory. */
    static Optional<Reading> read(Path tasks) {
        long now = System.nanoTime();
        Map<Long, Sample> threads = new HashMap<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tasks)) {
            for (Path dir : dirs) {
                long tid;
                try {
                    tid = Long.parseLong(dir.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                try {
                    threads.put(tid, parse(Files.readString(dir.resolve("comm"), StandardCharsets.UTF_8),
                            Files.readString(dir.resolve("schedstat"), StandardCharsets.US_ASCII)));
                } catch (IOException e) {
                    // the thread ended while the directory was read
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return threads.isEmpty() ? Optional.empty() : Optional.of(new Reading(now, Map.copyOf(threads)));
    }

    /** One thread from the text of its {@code comm} and {@code schedstat} files. */
    static Sample parse(String comm, String schedstat) {
        String[] fields = schedstat.trim().split("\\s+");
        if (fields.length < 3) {
            throw new IllegalArgumentException("schedstat has 3 fields, got: " + schedstat.trim());
        }
        return new Sample(comm.strip(), Long.parseLong(fields[0]), Long.parseLong(fields[1]),
                Long.parseLong(fields[2]));
    }

    /** A thread's group: its name with every run of digits as one {@code #}. */
    static String group(String name) {
        return name.replaceAll("[0-9]+", "#");
    }

    /**
     * The groups between two readings of the same JVM: first {@link #ALL}, then the {@link #LISTED}
     * groups with the most time on a CPU, then {@link #OTHER} when more remain.
     */
    static List<Group> between(Reading from, Reading to) {
        double seconds = (to.nanoTime() - from.nanoTime()) / 1e9;
        if (seconds <= 0) {
            throw new IllegalArgumentException("the second reading is not later than the first");
        }
        Map<String, Group> groups = new LinkedHashMap<>();
        for (Map.Entry<Long, Sample> e : to.threads().entrySet()) {
            Sample now = e.getValue();
            Sample before = from.threads().get(e.getKey());
            if (before == null || now.onCpuNanos() < before.onCpuNanos()) {
                before = new Sample(now.name(), 0, 0, 0); // started since, or its id reused by a new thread
            }
            String name = group(now.name());
            groups.merge(name, new Group(name, 1, (now.onCpuNanos() - before.onCpuNanos()) / 1e9 / seconds,
                    (now.waitingNanos() - before.waitingNanos()) / 1e9 / seconds,
                    (now.slices() - before.slices()) / seconds), (a, b) -> sum(name, List.of(a, b)));
        }
        List<Group> busiest = new ArrayList<>(groups.values());
        busiest.sort(Comparator.comparingDouble(Group::onCpuCores).reversed().thenComparing(Group::name));
        List<Group> out = new ArrayList<>();
        out.add(sum(ALL, busiest));
        out.addAll(busiest.subList(0, Math.min(LISTED, busiest.size())));
        if (busiest.size() > LISTED) {
            out.add(sum(OTHER, busiest.subList(LISTED, busiest.size())));
        }
        return List.copyOf(out);
    }

    /** {@code groups} as one group named {@code name}. */
    private static Group sum(String name, List<Group> groups) {
        int threads = 0;
        double onCpu = 0;
        double waiting = 0;
        double slices = 0;
        for (Group g : groups) {
            threads += g.threads();
            onCpu += g.onCpuCores();
            waiting += g.waitingCores();
            slices += g.slicesPerSecond();
        }
        return new Group(name, threads, onCpu, waiting, slices);
    }
}
