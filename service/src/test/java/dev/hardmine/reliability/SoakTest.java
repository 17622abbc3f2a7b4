package dev.hardmine.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.testing.DemoProcess;
import dev.hardmine.testing.PrometheusText;
import dev.hardmine.testing.PrometheusText.Sample;
import dev.hardmine.testing.SoakChart;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * An hour of {@code hardmine demo} at half the service's measured capacity, its synthetic trainers
 * closing the loop (each worker waits for its mined batches and feeds the hard samples it gets
 * back into its next batch): the heap's live data, the state stores on disk, the consumer lag and
 * the latency stay flat. Not part of the suite (it runs for as long as it is told, and it needs the
 * machine to itself); run it with
 * <pre>
 * ./mvnw -B -q verify -pl service -am -Dtest=SoakTest -Dsurefire.failIfNoSpecifiedTests=false -Dsoak.minutes=60
 * </pre>
 *
 * <p>Every {@code soak.sample-seconds} (60) it reads the demo's {@code /metrics}: embeddings mined
 * (the rate), the consumer lag summed over partitions, the latency histogram (the p99 of that
 * interval from the buckets' increments, over every job), the memory's entries,
 * {@code jvm_gc_live_data_size_bytes}, and the process's resident memory; it sums the sizes of the
 * files under the miner's state directory and under the broker's log directory. Every
 * {@code soak.full-gc-minutes} (10) it has {@code jcmd} run a full collection and reads the heap
 * used right after: the live data, measured rather than estimated. A table of every interval is
 * printed and written to {@code target/soak/soak.md}, its curves to {@code target/soak/soak.svg}.
 *
 * <p>Flat means, after a warm-up of a sixth of the run (2 intervals at least), comparing the first
 * half of the remaining intervals with the second: the mined rate holds (≥ 90 %), the median of
 * the intervals' p99 grows by at most half (+ 20 ms), the live heap after full collections by at
 * most a fifth (+ 32 MB), the state stores' peak by at most half (+ 16 MB); the lag never exceeds
 * what the trainers may have in flight (jobs × workers × 4 batches); no interval mines nothing; no
 * record is dead-lettered. The broker's log directory is reported, not bounded: it grows for the
 * first 15 minutes, the demo's retention, then holds.
 */
@EnabledIfSystemProperty(named = "soak.minutes", matches = "\\d+")
class SoakTest {
    private static final int MINUTES = Integer.getInteger("soak.minutes", 0);
    private static final Duration SAMPLE = Duration.ofSeconds(Integer.getInteger("soak.sample-seconds", 60));
    private static final int FULL_GC_EVERY = Integer.getInteger("soak.full-gc-minutes", 10);
    private static final int JOBS = Integer.getInteger("soak.jobs", 3);
    private static final int WORKERS = Integer.getInteger("soak.workers", 2);
    /** 6 workers × 128 embeddings (+ ~15 fed) every 115 ms ≈ 7 500 embeddings/s, half of `bench`'s capacity. */
    private static final int INTERVAL_MS = Integer.getInteger("soak.interval-ms", 115);
    private static final int MAX_IN_FLIGHT = 4;
    private static final Pattern SERVICE_ERROR = Pattern.compile(
            " ERROR \\[[^]]*] (dev\\.hardmine|o\\.a\\.k\\.streams|org\\.apache\\.kafka\\.streams)");

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** One interval's figures. */
    record Interval(int minute, double rate, double lag, double p99Ms, double memoryEntries, double liveDataMb,
                    double heapAfterFullGcMb, double rssMb, double storesMb, double brokerLogsMb) {
    }

    @Test
    void heapStoresLagAndLatencyStayFlatForAnHourOfFeedingTrainers() throws Exception {
        Path data = tmp.resolve("data");
        int samples = (int) Math.max(4, Duration.ofMinutes(MINUTES).toSeconds() / SAMPLE.toSeconds());
        List<Interval> intervals = new ArrayList<>();
        try (DemoProcess demo = DemoProcess.start(tmp, Map.of(),
                "--data-dir", data.toString(),
                "--jobs", Integer.toString(JOBS), "--workers", Integer.toString(WORKERS),
                "--batch-identities", "32", "--batch-images", "4",
                "--interval-ms", Integer.toString(INTERVAL_MS),
                "--max-in-flight", Integer.toString(MAX_IN_FLIGHT))) {
            String metricsUrl = demo.httpUrl() + "metrics";
            PrometheusText before = scrape(metricsUrl);
            long beforeNanos = System.nanoTime();
            double heapAfterGc = Double.NaN;
            for (int i = 1; i <= samples; i++) {
                Thread.sleep(SAMPLE.toMillis());
                boolean fullGc = FULL_GC_EVERY > 0 && (i * SAMPLE.toSeconds()) % (FULL_GC_EVERY * 60L) == 0;
                PrometheusText now = scrape(metricsUrl);
                long nowNanos = System.nanoTime();
                if (fullGc) {
                    fullGc(demo.pid());
                    heapAfterGc = sum(scrape(metricsUrl), "jvm_memory_used_bytes", "area", "heap") / 1e6;
                }
                double seconds = (nowNanos - beforeNanos) / 1e9;
                Interval interval = new Interval(
                        (int) (i * SAMPLE.toSeconds() / 60),
                        (sum(now, "hardmine_embeddings_total") - sum(before, "hardmine_embeddings_total")) / seconds,
                        sum(now, "hardmine_consumer_lag"),
                        p99Ms(before, now),
                        sum(now, "hardmine_memory_size"),
                        sum(now, "jvm_gc_live_data_size_bytes") / 1e6,
                        fullGc ? heapAfterGc : Double.NaN,
                        residentMb(demo.pid()),
                        directoryMb(data.resolve("streams")),
                        directoryMb(data.resolve("kafka")));
                intervals.add(interval);
                System.out.println(row(interval));
                before = now;
                beforeNanos = nowNanos;
            }
            assertThat(sum(before, "hardmine_dead_letters_total")).as("dead letters").isZero();
            // The broker in the demo's process logs, at ERROR, the produce requests it turns down for
            // the producer to retry (an out-of-order sequence at a transaction's start): not counted.
            assertThat(demo.stderr().lines().filter(l -> SERVICE_ERROR.matcher(l).find()))
                    .as("errors of the service and its streams").isEmpty();
        } finally {
            report(intervals);
        }

        int warmUp = Math.max(2, intervals.size() / 6);
        List<Interval> measured = intervals.subList(warmUp, intervals.size());
        List<Interval> first = measured.subList(0, measured.size() / 2);
        List<Interval> second = measured.subList(measured.size() / 2, measured.size());
        assertThat(intervals).as("every interval mines").allSatisfy(iv -> assertThat(iv.rate()).isPositive());
        assertThat(mean(second, Interval::rate)).as("mined rate, second half against first")
                .isGreaterThanOrEqualTo(0.9 * mean(first, Interval::rate));
        assertThat(median(second, Interval::p99Ms)).as("median p99 (ms), second half against first")
                .isLessThanOrEqualTo(1.5 * median(first, Interval::p99Ms) + 20);
        assertThat(max(second, Interval::storesMb)).as("state stores (MB), second half against first")
                .isLessThanOrEqualTo(1.5 * max(first, Interval::storesMb) + 16);
        assertThat(measured).as("lag within what the trainers may have in flight")
                .allSatisfy(iv -> assertThat(iv.lag()).isLessThanOrEqualTo(JOBS * WORKERS * MAX_IN_FLIGHT));
        List<Double> afterFullGc = measured.stream().map(Interval::heapAfterFullGcMb).filter(v -> !v.isNaN()).toList();
        if (afterFullGc.size() >= 2) {
            assertThat(afterFullGc.get(afterFullGc.size() - 1)).as("heap after full GC (MB), last against first")
                    .isLessThanOrEqualTo(1.2 * afterFullGc.get(0) + 32);
        }
    }

    private PrometheusText scrape(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET /metrics").isEqualTo(200);
        return PrometheusText.parse(r.body());
    }

    private static double sum(PrometheusText metrics, String name, String... labels) {
        return metrics.samples(name, labels).stream().mapToDouble(Sample::value).sum();
    }

    /**
     * The 99th percentile of {@code produced_at → mined_at} over the interval between two scrapes,
     * every job together: the upper bound of the first histogram bucket whose increment holds 99 %
     * of the interval's batches.
     */
    static double p99Ms(PrometheusText before, PrometheusText now) {
        TreeMap<Double, Double> increments = new TreeMap<>();
        for (Sample s : now.samples("hardmine_latency_seconds_bucket")) {
            increments.merge(le(s), s.value(), Double::sum);
        }
        for (Sample s : before.samples("hardmine_latency_seconds_bucket")) {
            increments.merge(le(s), -s.value(), Double::sum);
        }
        double total = increments.isEmpty() ? 0 : increments.lastEntry().getValue();
        if (total <= 0) {
            return Double.NaN;
        }
        for (Map.Entry<Double, Double> e : increments.entrySet()) {
            if (e.getValue() >= 0.99 * total) {
                return e.getKey() * 1000;
            }
        }
        return Double.POSITIVE_INFINITY;
    }

    private static double le(Sample s) {
        String le = s.labels().get("le");
        return le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
    }

    private static void fullGc(long pid) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.run").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("jcmd GC.run").isTrue();
        assertThat(p.exitValue()).as("jcmd GC.run: " + out).isZero();
    }

    private static double residentMb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }

    private static double directoryMb(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0; // a file compacted away while we walked
                }
            }).sum() / 1e6;
        }
    }

    private static final String HEADER = "| minute | embeddings/s | lag | p99 ms | memory entries | gc live data MB"
            + " | heap after full GC MB | RSS MB | state stores MB | broker logs MB |\n"
            + "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

    private static String row(Interval iv) {
        return String.format("| %d | %.0f | %.0f | %.0f | %.0f | %.1f | %s | %.0f | %.1f | %.0f |", iv.minute(), iv.rate(),
                iv.lag(), iv.p99Ms(), iv.memoryEntries(), iv.liveDataMb(),
                Double.isNaN(iv.heapAfterFullGcMb()) ? "" : String.format("%.1f", iv.heapAfterFullGcMb()),
                iv.rssMb(), iv.storesMb(), iv.brokerLogsMb());
    }

    private static void report(List<Interval> intervals) {
        StringBuilder out = new StringBuilder("Soak of " + MINUTES + " min, " + JOBS + " jobs × " + WORKERS
                + " workers, batches of 32 × 4 every " + INTERVAL_MS + " ms, ended " + Instant.now() + "\n\n" + HEADER + "\n");
        intervals.forEach(iv -> out.append(row(iv)).append('\n'));
        try {
            Path dir = Files.createDirectories(Path.of("target", "soak"));
            Files.writeString(dir.resolve("soak.md"), out);
            if (!intervals.isEmpty()) {
                List<String> lines = out.toString().lines().toList();
                Files.writeString(dir.resolve("soak.svg"), SoakChart.svg(lines.get(0), SoakChart.fromTable(lines)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.println(out);
    }

    private interface Figure {
        double of(Interval iv);
    }

    private static double mean(List<Interval> ivs, Figure f) {
        return ivs.stream().mapToDouble(f::of).average().orElse(Double.NaN);
    }

    private static double max(List<Interval> ivs, Figure f) {
        return ivs.stream().mapToDouble(f::of).max().orElse(Double.NaN);
    }

    private static double median(List<Interval> ivs, Figure f) {
        double[] v = ivs.stream().mapToDouble(f::of).filter(d -> !Double.isNaN(d)).sorted().toArray();
        return v.length == 0 ? Double.NaN : v[v.length / 2];
    }
}
