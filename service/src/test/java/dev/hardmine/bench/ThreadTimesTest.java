package dev.hardmine.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThreadTimesTest {
    private static final long S = 1_000_000_000L;

    @Test
    void parsesSchedstatAndTheNativeName() {
        ThreadTimes.Sample s = ThreadTimes.parse("GC Thread#1\n", "123456789 2000 17\n");

        assertThat(s).isEqualTo(new ThreadTimes.Sample("GC Thread#1", 123_456_789L, 2_000L, 17L));
        assertThatThrownBy(() -> ThreadTimes.parse("x", "12 34")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("3 fields");
    }

    @Test
    void groupsFoldTheDigitsOfNames() {
        assertThat(ThreadTimes.group("GC Thread#0")).isEqualTo(ThreadTimes.group("GC Thread#12"))
                .isEqualTo("GC Thread##");
        assertThat(ThreadTimes.group("kafka-1-raft-io")).isEqualTo("kafka-#-raft-io");
        assertThat(ThreadTimes.group("ForkJoinPool.co")).isEqualTo("ForkJoinPool.co");
    }

    @Test
    void aGroupIsItsThreadsTimeBetweenTheReadingsOverTheElapsedTime() {
        ThreadTimes.Reading from = new ThreadTimes.Reading(10 * S, Map.of(
                1L, new ThreadTimes.Sample("stream", 5 * S, 1 * S, 100),
                2L, new ThreadTimes.Sample("GC Thread#0", 1 * S, 0, 10),
                3L, new ThreadTimes.Sample("GC Thread#1", 2 * S, 0, 20),
                4L, new ThreadTimes.Sample("ended", 9 * S, 9 * S, 9)));
        ThreadTimes.Reading to = new ThreadTimes.Reading(12 * S, Map.of(
                1L, new ThreadTimes.Sample("stream", 6 * S + S / 2, 1 * S + S / 5, 300),
                2L, new ThreadTimes.Sample("GC Thread#0", 1 * S + S / 10, 0, 12),
                3L, new ThreadTimes.Sample("GC Thread#1", 2 * S + S / 10, S / 10, 24),
                5L, new ThreadTimes.Sample("started", S / 2, 0, 50)));

        List<ThreadTimes.Group> groups = ThreadTimes.between(from, to);

        // 2 s apart: the stream thread ran 1.5 s and waited 0.2 s; the two GC threads 0.2 s together;
        // the thread that started counts from zero; the one that ended is not there.
        assertThat(groups).extracting(ThreadTimes.Group::name)
                .containsExactly(ThreadTimes.ALL, "stream", "started", "GC Thread##");
        ThreadTimes.Group stream = groups.get(1);
        assertThat(stream.threads()).isEqualTo(1);
        assertThat(stream.onCpuCores()).isCloseTo(0.75, within(1e-9));
        assertThat(stream.waitingCores()).isCloseTo(0.1, within(1e-9));
        assertThat(stream.slicesPerSecond()).isCloseTo(100, within(1e-9));
        ThreadTimes.Group gc = groups.get(3);
        assertThat(gc.threads()).isEqualTo(2);
        assertThat(gc.onCpuCores()).isCloseTo(0.1, within(1e-9));
        assertThat(gc.waitingCores()).isCloseTo(0.05, within(1e-9));
        assertThat(groups.get(2).onCpuCores()).isCloseTo(0.25, within(1e-9));
        ThreadTimes.Group all = groups.get(0);
        assertThat(all.threads()).isEqualTo(4);
        assertThat(all.onCpuCores()).isCloseTo(0.75 + 0.25 + 0.1, within(1e-9));
    }

    @Test
    void theGroupsBeyondTheListedOnesAreSummedAsOther() {
        Map<Long, ThreadTimes.Sample> start = new HashMap<>();
        Map<Long, ThreadTimes.Sample> end = new HashMap<>();
        int n = ThreadTimes.LISTED + 3;
        for (long t = 1; t <= n; t++) {
            start.put(t, new ThreadTimes.Sample("g" + (char) ('a' + t), 0, 0, 0));
            end.put(t, new ThreadTimes.Sample("g" + (char) ('a' + t), t * S, 0, 1));
        }

        List<ThreadTimes.Group> groups = ThreadTimes.between(new ThreadTimes.Reading(0, start),
                new ThreadTimes.Reading(S, end));

        assertThat(groups).hasSize(1 + ThreadTimes.LISTED + 1);
        assertThat(groups.get(1).onCpuCores()).isEqualTo(n); // the busiest first
        ThreadTimes.Group other = groups.get(groups.size() - 1);
        assertThat(other.name()).isEqualTo(ThreadTimes.OTHER);
        assertThat(other.threads()).isEqualTo(3);
        assertThat(other.onCpuCores()).isCloseTo(1 + 2 + 3, within(1e-9));
        assertThat(groups.get(0).onCpuCores()).isCloseTo(n * (n + 1) / 2.0, within(1e-9));
    }

    @Test
    void aReusedThreadIdCountsAsANewThread() {
        ThreadTimes.Reading from = new ThreadTimes.Reading(0, Map.of(7L, new ThreadTimes.Sample("old", 5 * S, 0, 5)));
        ThreadTimes.Reading to = new ThreadTimes.Reading(S, Map.of(7L, new ThreadTimes.Sample("new", S / 4, 0, 1)));

        assertThat(ThreadTimes.between(from, to).get(1)).isEqualTo(new ThreadTimes.Group("new", 1, 0.25, 0, 1));
        assertThatThrownBy(() -> ThreadTimes.between(to, from)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readsATaskDirectoryAndSkipsWhatIsNotAThread(@TempDir Path tasks) throws IOException {
        write(tasks.resolve("41"), "bench-publisher\n", "300 40 5\n");
        write(tasks.resolve("42"), "C2 CompilerThre\n", "7 8 9\n");
        Files.createDirectories(tasks.resolve("not-a-thread"));
        Files.createDirectories(tasks.resolve("43")); // ended while read: no files left

        ThreadTimes.Reading r = ThreadTimes.read(tasks).orElseThrow();

        assertThat(r.threads()).containsOnlyKeys(41L, 42L);
        assertThat(r.threads().get(42L)).isEqualTo(new ThreadTimes.Sample("C2 CompilerThre", 7, 8, 9));
        assertThat(ThreadTimes.read(tasks.resolve("missing"))).isEmpty();
    }

    @Test
    void thisJvmsBusyThreadShowsItsTimeOnACpu() throws InterruptedException {
        Optional<ThreadTimes.Reading> start = ThreadTimes.ofThisJvm();
        assumeTrue(start.isPresent(), "per-thread scheduler statistics (Linux /proc/self/task/*/schedstat)");
        CountDownLatch busyDone = new CountDownLatch(1);
        CountDownLatch read = new CountDownLatch(1);
        Thread busy = new Thread(() -> {
            long end = System.nanoTime() + 200_000_000L;
            double x = 1;
            while (System.nanoTime() < end) {
                x = Math.sqrt(x + 1);
            }
            busyDone.countDown();
            try {
                read.await(10, TimeUnit.SECONDS); // alive until read: an ended thread is gone from /proc
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "times-probe-7"); // the digits fold into the group's name
        busy.start();
        try {
            assertThat(busyDone.await(10, TimeUnit.SECONDS)).isTrue();
            List<ThreadTimes.Group> groups = ThreadTimes.between(start.get(), ThreadTimes.ofThisJvm().orElseThrow());

            assertThat(groups.get(0).name()).isEqualTo(ThreadTimes.ALL);
            ThreadTimes.Group probe = groups.stream().filter(g -> g.name().equals("times-probe-#")).findFirst()
                    .orElseThrow(() -> new AssertionError("no group times-probe-# in " + groups));
            assertThat(probe.threads()).isEqualTo(1);
            assertThat(probe.onCpuCores()).isPositive();
            assertThat(probe.slicesPerSecond()).isPositive();
            assertThat(groups.get(0).onCpuCores()).isGreaterThanOrEqualTo(probe.onCpuCores());
        } finally {
            read.countDown();
            busy.join(10_000);
        }
    }

    private static void write(Path dir, String comm, String schedstat) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("comm"), comm);
        Files.writeString(dir.resolve("schedstat"), schedstat);
    }
}
