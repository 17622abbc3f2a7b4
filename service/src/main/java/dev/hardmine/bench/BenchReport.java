package dev.hardmine.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.hardmine.mining.BlasKernels;
import dev.hardmine.mining.JobMiner;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * What a bench run measured: the settings, the machine, one row per phase, the capacity, the
 * sweep's answer, the overload's answer ({@code --overload}; null without it, or when its backlog
 * was not mined in time), the step alone ({@code --step-alone}; null without it) back to back and
 * at the pace of {@code --rate} ({@code stepAlonePaced}; null without both), and the exactly-once
 * check. Printed as a table or as JSON.
 */
public record BenchReport(Bench.Settings settings, Machine machine, boolean embeddedCluster, double capacity,
                          Bench.Sweep sweep, Overload overload, List<PhaseMeter.Result> phases, Reference stepAlone,
                          Reference stepAlonePaced, ExactlyOnce exactlyOnce) {

    /**
     * Where it ran. {@code cpu}: the CPU's name as /proc/cpuinfo gives it (a machine of the same size
     * may run on another host from one day to the next, and the figures move with it), the
     * architecture where it gives none. {@code blasKernels}: the OpenBLAS kernel set the products ran on (the figures
     * depend on it), with OPENBLAS_CORETYPE when the environment chose it; {@code anchorScans}: how
     * the scans of the rows ran, on the Vector API or in plain Java (JobMiner.scanPass).
     */
    public record Machine(int cores, String cpu, long heapMaxMb, String java, String os, String blasKernels,
                          String anchorScans) {
        static Machine here() {
            return new Machine(Runtime.getRuntime().availableProcessors(),
                    BlasKernels.cpuModel(Path.of("/proc/cpuinfo")).orElse(System.getProperty("os.arch")),
                    Runtime.getRuntime().maxMemory() / (1024 * 1024),
                    System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                    System.getProperty("os.name") + " " + System.getProperty("os.arch") + " "
                            + System.getProperty("os.version"),
                    BlasKernels.describe(), JobMiner.scanPass());
        }
    }

    /**
     * The job's mining step timed alone in the bench's JVM before the phases and after them: what
     * the service's step of each phase is compared with, in the same run.
     */
    public record Reference(StepAlone.Result before, StepAlone.Result after) {
        /** The mean of the two, ms. */
        public double meanMs() {
            return (before.meanMs() + after.meanMs()) / 2;
        }

        /** The service's mean step in {@code phase} over {@link #meanMs}. */
        public double ratio(PhaseMeter.Result phase) {
            return phase.miningMsMean() / meanMs();
        }
    }

    /**
     * What the service mined while {@code multiple} times its capacity was offered, as a share of the
     * capacity measured before the overload ({@code capacityBefore}, the phase the offered rate came
     * from) and again after it, once its backlog was mined ({@code capacityAfter}), and of their mean:
     * the host's speed may drift by several percent over the minutes between the two, and the mean
     * of the phases on either side cancels a steady drift. With several {@code rounds} (an overload
     * phase, then a capacity phase, again and again) {@code mined} and the two capacities are their
     * means over the rounds, and {@code ofMean} is the mean of the rounds' own shares, each overload
     * phase against the two capacity phases on either side of it.
     */
    public record Overload(double multiple, double offered, double mined, double capacityBefore,
                           double capacityAfter, double ofBefore, double ofAfter, double ofMean, List<Round> rounds) {

        public Overload {
            rounds = List.copyOf(rounds);
        }

        /** One overload phase and the capacity phases on either side of it. */
        public record Round(double capacityBefore, double mined, double capacityAfter, double ofMean) {
            static Round of(double capacityBefore, double mined, double capacityAfter) {
                return new Round(capacityBefore, mined, capacityAfter, mined / ((capacityBefore + capacityAfter) / 2));
            }
        }

        static Overload of(double multiple, double offered, List<Round> rounds) {
            if (rounds.isEmpty()) {
                throw new IllegalArgumentException("an overload needs at least one round");
            }
            double mined = mean(rounds, Round::mined);
            double before = mean(rounds, Round::capacityBefore);
            double after = mean(rounds, Round::capacityAfter);
            return new Overload(multiple, offered, mined, before, after, mined / before, mined / after,
                    mean(rounds, Round::ofMean), rounds);
        }

        private static double mean(List<Round> rounds, ToDoubleFunction<Round> value) {
            return rounds.stream().mapToDouble(value).average().orElseThrow();
        }

        String sentence() {
            if (rounds.size() == 1) {
                return String.format(Locale.ROOT, "overload %.1fx: %.0f embeddings/s mined while %.0f were offered: "
                                + "%.1f %% of the capacity before it (%.0f/s), %.1f %% of the capacity after it (%.0f/s), "
                                + "%.1f %% of their mean", multiple, mined, offered, 100 * ofBefore, capacityBefore,
                        100 * ofAfter, capacityAfter, 100 * ofMean);
            }
            return String.format(Locale.ROOT, "overload %.1fx, %d rounds: %.0f embeddings/s mined on average while %.0f "
                            + "were offered: %.1f %% of the capacity phases before them (%.0f/s), %.1f %% of those after "
                            + "them (%.0f/s); round by round, against the capacity phases on either side: %s %%, "
                            + "%.1f %% on average",
                    multiple, rounds.size(), mined, offered, 100 * ofBefore, capacityBefore, 100 * ofAfter, capacityAfter,
                    rounds.stream().map(r -> String.format(Locale.ROOT, "%.1f", 100 * r.ofMean()))
                            .collect(Collectors.joining(", ")), 100 * ofMean);
        }
    }

    /**
     * The check at the end, after publishing stopped and the service caught up.
     *
     * @param published   batches the publishers sent
     * @param mined       distinct batches read back from the mined topic
     * @param missing     published batches never read back
     * @param duplicates  batches read back more than once (each extra copy counts)
     * @param foreign     mined batches with ids this run did not publish
     * @param sendFailures sends Kafka reported as failed
     * @param deadLetters records the service dead-lettered
     * @param caughtUp    whether the service mined everything before the drain's time bound
     */
    public record ExactlyOnce(long published, long mined, long missing, long duplicates, long foreign,
                              long sendFailures, long deadLetters, boolean caughtUp) {
        public boolean holds() {
            return caughtUp && published == mined && missing == 0 && duplicates == 0 && sendFailures == 0
                    && deadLetters == 0;
        }

        String sentence() {
            if (holds()) {
                return "exactly once: all " + published + " published batches were mined exactly once";
            }
            return String.format(Locale.ROOT, "EXACTLY-ONCE CHECK FAILED: %d published, %d mined, %d missing, "
                    + "%d duplicates, %d send failures, %d dead letters%s", published, mined, missing, duplicates,
                    sendFailures, deadLetters, caughtUp ? "" : ", the service did not catch up in time");
        }
    }

    public String toJson() {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    // Durations as ISO-8601 text, e.g. PT30S.
                    .registerModule(new SimpleModule().addSerializer(Duration.class, ToStringSerializer.instance))
                    .writerFor(BenchReport.class).writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void printTable(PrintStream out) {
        Bench.Settings s = settings;
        out.printf(Locale.ROOT, "hardmine bench: %d job(s), %d publisher(s), %d shard(s)/job, D=%d, batches of %d, "
                        + "memory %d, %s, %s cluster%n", s.jobs(), s.publishers(), s.shards(), s.dim(), s.batch(),
                s.memory(), s.strategy(), embeddedCluster ? "embedded" : "external");
        out.printf(Locale.ROOT, "machine: %d cores (%s), heap max %d MB, %s, %s, OpenBLAS kernels %s, anchor scans %s "
                        + "(uptime %d s)%n",
                machine.cores(), machine.cpu(), machine.heapMaxMb(), machine.java(), machine.os(), machine.blasKernels(),
                machine.anchorScans(),
                ManagementFactory.getRuntimeMXBean().getUptime() / 1000);
        out.println();
        String header = String.format(Locale.ROOT, "%-24s %8s %8s %9s | %-26s | %-26s | %13s | %7s | %-15s | %7s %7s %7s %7s | %5s",
                "phase", "offered", "mined", "triplets", "visible ms p50/p95/p99/max", "mined ms p50/p95/p99/max",
                "mining ms μ/p99", "memory", "GC n/Σms/max", "oldgen", "heap", "direct", "rss", "queue");
        out.println(header);
        out.println("-".repeat(header.length()));
        for (PhaseMeter.Result r : phases) {
            JvmProbe.Snapshot j = r.jvm();
            out.printf(Locale.ROOT, "%-24s %8s %8.0f %9.0f | %-26s | %-26s | %6.1f/%6.1f | %7.0f | %-15s | %7s %7s %7s %7s | %5d%n",
                    r.name(), r.offered() > 0 ? String.format(Locale.ROOT, "%.0f", r.offered()) : "max",
                    r.embeddingsPerSecond(), r.tripletsPerSecond(), latency(r.visibleLatency()),
                    latency(r.minedLatency()), r.miningMsMean(), r.miningMsP99(), r.memorySize(),
                    j == null ? "" : String.format(Locale.ROOT, "%d/%.0f/%.0f", j.gcPauses(), j.gcPauseTotalMs(),
                            j.gcPauseMaxMs()),
                    j == null ? "" : mb(j.oldGenAfterGcMb()), j == null ? "" : mb(j.heapUsedMb()),
                    j == null ? "" : mb(j.directMb()), j == null ? "" : mb(j.residentMb()), r.inFlight());
        }
        out.println();
        out.println("offered, mined, triplets: per second; visible = produced_at → read by a read_committed consumer;");
        out.println("mined = produced_at → the service's mined_at; mining = the service's step per batch;");
        out.println("oldgen = old generation after the last GC (MB); direct = direct buffers (MB); rss = resident set, ND4J's matrices included (MB); queue = batches in flight.");
        printThreads(out);
        if (!Double.isNaN(capacity)) {
            out.printf(Locale.ROOT, "capacity: %.0f embeddings/s%n", capacity);
        }
        if (overload != null) {
            out.println(overload.sentence());
        }
        if (stepAlone != null) {
            out.printf(Locale.ROOT, "the step alone (the job's settings and shapes, back to back in this JVM): %.2f ms before "
                    + "the phases, %.2f ms after (%d and %d steps timed)%n", stepAlone.before().meanMs(),
                    stepAlone.after().meanMs(), stepAlone.before().steps(), stepAlone.after().steps());
            printRatios(out, stepAlone, phases);
        }
        if (stepAlonePaced != null) {
            out.printf(Locale.ROOT, "the step alone at the offered rate's pace (one step every %.1f ms, nothing "
                    + "else running between): %.2f ms before the phases, %.2f ms after (%d and %d steps timed)%n",
                    stepAlonePaced.before().intervalMs(), stepAlonePaced.before().meanMs(),
                    stepAlonePaced.after().meanMs(), stepAlonePaced.before().steps(), stepAlonePaced.after().steps());
            printRatios(out, stepAlonePaced, phases.stream().filter(r -> r.offered() == settings.rate()).toList());
        }
        if (sweep != null) {
            out.printf(Locale.ROOT, "sweep: highest rate held with visible p99 <= %.0f ms: %s%n", sweep.boundMs(),
                    Double.isNaN(sweep.highestHeld()) ? "none of those tried"
                            : String.format(Locale.ROOT, "%.0f embeddings/s", sweep.highestHeld()));
        }
        out.println(exactlyOnce.sentence());
    }

    /** The service's mean step in each of {@code rows} that mined something, over {@code reference}'s. */
    private static void printRatios(PrintStream out, Reference reference, List<PhaseMeter.Result> rows) {
        List<String> ratios = rows.stream().filter(r -> r.batches() > 0)
                .map(r -> String.format(Locale.ROOT, "%s %.2fx", r.name(), reference.ratio(r))).toList();
        if (!ratios.isEmpty()) {
            out.println("the service's step against it: " + String.join("; ", ratios));
        }
    }

    /** Each phase's thread groups on one line: cores on a CPU / waiting for one. */
    private void printThreads(PrintStream out) {
        List<PhaseMeter.Result> withThreads = phases.stream().filter(r -> r.threads() != null).toList();
        if (withThreads.isEmpty()) {
            return;
        }
        out.println("threads of this JVM by native name (digits as #), cores on a CPU/waiting for one:");
        for (PhaseMeter.Result r : withThreads) {
            List<String> groups = r.threads().stream()
                    .map(g -> String.format(Locale.ROOT, "%s %.2f/%.2f", g.name(), g.onCpuCores(), g.waitingCores()))
                    .toList();
            out.printf(Locale.ROOT, "  %-22s %s%n", r.name(), String.join(" | ", groups));
        }
    }

    private static String latency(PhaseMeter.Latency l) {
        return String.format(Locale.ROOT, "%.0f/%.0f/%.0f/%.0f", l.p50(), l.p95(), l.p99(), l.max());
    }

    private static String mb(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.0f", v);
    }
}
