package dev.hardmine.mining;

import static dev.hardmine.mining.MiningAssertions.assertIdentical;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardmine.mining.RandomJobs.Values;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The warmer reads what was kept, and nothing once it is stopped: a step, an attach or a close
 * that changes, grows or frees the memory never meets a read of it ({@link MemoryWarmer}).
 */
class MemoryWarmerTest {
    private static final Duration LONG = Duration.ofSeconds(30);

    private static FloatBuffer rows(int floats) {
        return FloatBuffer.allocate(floats);
    }

    /** A reader that records the rows and ranges it was given. */
    private static final class Recording implements MemoryWarmer.Reader {
        final List<Object[]> reads = new CopyOnWriteArrayList<>();

        @Override
        public float read(FloatBuffer rows, int from, int to) {
            reads.add(new Object[] {rows, from, to});
            return MemoryWarmer.EVERY_LINE.read(rows, from, to);
        }
    }

    @Test
    void readsTheKeptRegionsChunkByChunkEveryPeriodUntilItsTimeIsUp() throws Exception {
        Recording reader = new Recording();
        int floats = 2 * MemoryWarmer.CHUNK_FLOATS + 100;
        FloatBuffer kept = rows(floats);
        FloatBuffer more = rows(50);
        long ms = TimeUnit.MILLISECONDS.toNanos(1);
        try (MemoryWarmer warmer = new MemoryWarmer(ms, ms, reader)) {
            warmer.keep(TimeUnit.MILLISECONDS.toNanos(300), new MemoryWarmer.Region(kept, floats),
                    new MemoryWarmer.Region(more, 50));
            await().atMost(Duration.ofSeconds(10)).until(() -> !warmer.keeping());
            long read = warmer.chunksRead();
            await().during(Duration.ofMillis(50)).atMost(Duration.ofSeconds(1)).until(() -> warmer.chunksRead() == read);

            assertThat(read).as("chunks read in 300 ms, four a pass every ms").isGreaterThanOrEqualTo(8);
            List<Object[]> reads = List.copyOf(reader.reads);
            for (int r = 0; r < reads.size(); r++) {
                int chunk = r % 4;
                int from = chunk * MemoryWarmer.CHUNK_FLOATS;
                Object[] expected = chunk == 3 ? new Object[] {more, 0, 50}
                        : new Object[] {kept, from, Math.min(floats, from + MemoryWarmer.CHUNK_FLOATS)};
                assertThat(reads.get(r)).as("read " + r).containsExactly(expected);
            }
        }
    }

    @Test
    void aStopWaitsForTheChunkBeingReadAndNothingIsReadAfterIt() throws Exception {
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        AtomicInteger reads = new AtomicInteger();
        MemoryWarmer.Reader blockingOnce = (rows, from, to) -> {
            if (reads.getAndIncrement() == 0) {
                reading.countDown();
                try {
                    finish.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return 0;
        };
        try (MemoryWarmer warmer = new MemoryWarmer(0, 0, blockingOnce)) {
            int floats = MemoryWarmer.CHUNK_FLOATS * 4;
            warmer.keep(LONG.toNanos(), new MemoryWarmer.Region(rows(floats), floats));
            assertThat(reading.await(10, TimeUnit.SECONDS)).as("the warmer started reading").isTrue();

            Thread stopping = new Thread(warmer::stop);
            stopping.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> stopping.getState() == Thread.State.WAITING);
            assertThat(stopping.isAlive()).as("the stop waits while a chunk is read").isTrue();
            finish.countDown();
            stopping.join(10_000);

            assertThat(stopping.isAlive()).as("the stop returned after the chunk").isFalse();
            assertThat(warmer.keeping()).isFalse();
            await().during(Duration.ofMillis(50)).atMost(Duration.ofSeconds(1)).until(() -> reads.get() == 1);
        }
    }

    @Test
    void aKeepReplacesWhatWasKept() throws Exception {
        Recording reader = new Recording();
        FloatBuffer secondRows = rows(64);
        try (MemoryWarmer warmer = new MemoryWarmer(0, 0, reader)) {
            warmer.keep(LONG.toNanos(), new MemoryWarmer.Region(rows(64), 64));
            warmer.keep(LONG.toNanos(), new MemoryWarmer.Region(secondRows, 64));
            int before = reader.reads.size();
            await().atMost(Duration.ofSeconds(10)).until(() -> reader.reads.size() > before + 2);

            List<Object[]> reads = List.copyOf(reader.reads);
            assertThat(reads.subList(before, reads.size())).allSatisfy(read -> assertThat(read[0]).isSameAs(secondRows));
            warmer.stop();
            assertThat(warmer.keeping()).isFalse();
        }
    }

    @Test
    void atMostMaxFloatsAreKeptWarmTheFirstRegionsFirst() throws Exception {
        Recording reader = new Recording();
        int first = MemoryWarmer.MAX_FLOATS - 100;
        FloatBuffer second = rows(500);
        FloatBuffer third = rows(10);
        try (MemoryWarmer warmer = new MemoryWarmer(0, 0, reader)) {
            warmer.keep(LONG.toNanos(), new MemoryWarmer.Region(rows(first), first),
                    new MemoryWarmer.Region(second, 500), new MemoryWarmer.Region(third, 10));
            await().atMost(Duration.ofSeconds(30)).until(() -> reader.reads.stream().anyMatch(read -> read[0] == third));
            warmer.stop();
        }
        List<Object[]> reads = List.copyOf(reader.reads);
        assertThat(reads).filteredOn(read -> read[0] == second).isNotEmpty()
                .allSatisfy(read -> assertThat(read).containsExactly(second, 0, 100));
        assertThat(reads).filteredOn(read -> read[0] == third)
                .allSatisfy(read -> assertThat(read).containsExactly(third, 0, 0));
    }

    @Test
    void aClosedWarmerKeepsNothingMore() {
        MemoryWarmer warmer = new MemoryWarmer(0, 0, MemoryWarmer.EVERY_LINE);
        warmer.keep(LONG.toNanos(), new MemoryWarmer.Region(rows(64), 64));
        await().atMost(Duration.ofSeconds(10)).until(() -> warmer.chunksRead() > 0);
        warmer.close();
        long read = warmer.chunksRead();

        warmer.keep(LONG.toNanos(), new MemoryWarmer.Region(rows(64), 64));
        assertThat(warmer.keeping()).isFalse();
        await().during(Duration.ofMillis(50)).atMost(Duration.ofSeconds(1)).until(() -> warmer.chunksRead() == read);
    }

    /**
     * A miner whose memory and scores are read without pause between its steps, the memory growing
     * from its first rows to 5 000 entries and evicting after: the same results as without, and every
     * read of the rows the memory holds at that moment (of its live entries) or of the scores the last
     * step wrote — never of rows or scores a step grew out of (and freed), or of a memory attached over
     * or closed.
     */
    @Test
    void aMinerKeptWarmGivesTheSameResultsAndNoReadMeetsAStepAnAttachOrAClose() throws Exception {
        MemoryLimits limits = new MemoryLimits(0, 5000, 0);
        MiningSettings settings = MiningSettings.defaults().withStrategy(Strategy.BATCH_HARD);
        Random random = new Random(3);
        List<SampleBatch> batches = new ArrayList<>();
        for (int b = 0; b < 22; b++) {
            batches.add(RandomJobs.batch(random, Values.GAUSSIAN, "b" + b + "-", b, 256, 32, 200));
        }
        AtomicReference<JobMiner> watched = new AtomicReference<>();
        List<String> violations = new CopyOnWriteArrayList<>();
        AtomicInteger liveReads = new AtomicInteger();
        AtomicInteger scoreReads = new AtomicInteger();
        MemoryWarmer.Reader checking = (rows, from, to) -> {
            MemoryBank memory = watched.get().memory();
            int live = memory == null ? 0 : memory.size();
            if (memory != null && rows == memory.rows() && to <= live * memory.width()) {
                liveReads.incrementAndGet();
            } else if (rows == watched.get().scoreFloats() && to <= 256 * live) {
                scoreReads.incrementAndGet();
            } else {
                violations.add("read up to " + to + " of rows that are neither the memory's live entries nor the "
                        + "scores of its last batch");
                return 0;
            }
            return MemoryWarmer.EVERY_LINE.read(rows, from, to);
        };
        try (MemoryWarmer warmer = new MemoryWarmer(0, 0, checking); JobMiner cold = new JobMiner(limits)) {
            JobMiner warm = new JobMiner(limits, true, JobMiner.PASS_IN_TILES_ABOVE, JobMiner.Keeping.WHAT_SCANS_READ,
                    warmer, LONG);
            watched.set(warm);
            try {
                for (SampleBatch batch : batches) {
                    MiningResult expected = cold.mine(batch, settings);
                    assertIdentical(warm.mine(batch, settings), expected, batch.batchId());
                    assertThat(warmer.keeping()).as("kept after " + batch.batchId()).isTrue();
                    int before = liveReads.get();
                    await().atMost(Duration.ofSeconds(10)).until(() -> liveReads.get() > before);
                }
                assertThat(warm.memory().size()).isEqualTo(5000);

                MemoryBank restored = new MemoryBank(32, limits);
                for (MemoryBank.Entry e : cold.memory().entries()) {
                    restored.restore(e.sampleId(), e.label(), e.step(), e.seq(), e.embedding());
                }
                warm.attach(restored);
                assertThat(warmer.keeping()).as("kept after an attach").isFalse();
                warm.mine(batches.get(0).asStep("again", 22), settings);
                assertThat(warmer.keeping()).isTrue();
                int before = liveReads.get();
                await().atMost(Duration.ofSeconds(10)).until(() -> liveReads.get() > before);
            } finally {
                warm.close();
            }
            assertThat(warmer.keeping()).as("kept after a close").isFalse();
        }
        assertThat(violations).isEmpty();
        assertThat(scoreReads).as("reads of the scores").hasPositiveValue();
    }

    @Test
    void aMinerWithoutTimeToKeepWarmLeavesTheWarmerAlone() throws Exception {
        try (MemoryWarmer warmer = new MemoryWarmer(0, 0, MemoryWarmer.EVERY_LINE);
             JobMiner miner = new JobMiner(MemoryLimits.defaults(), true, JobMiner.PASS_IN_TILES_ABOVE,
                     JobMiner.Keeping.WHAT_SCANS_READ, warmer, Duration.ZERO)) {
            miner.mine(RandomJobs.batch(new Random(1), Values.GAUSSIAN, "b", 0, 64, 16, 8), MiningSettings.defaults());
            assertThat(warmer.keeping()).isFalse();
            assertThat(warmer.chunksRead()).isZero();
        }
    }
}
