package dev.hardmine.bench;

import dev.hardmine.mining.MemoryTouch;
import dev.hardmine.stream.ServiceConfig;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * {@link MiningStepBenchmark}'s step with the machine left idle for {@code gapMs} before each one,
 * as a service that is not saturated leaves it between batches: at 10 000 embeddings/s a batch of
 * 256 arrives every 25.6 ms, so a step of about 8 ms is followed by about 17 ms with no mining.
 * JMH times the step only, not the gap.
 *
 * <p>On a virtual machine whose host lets an idle virtual CPU go cold, or shares its caches with
 * other guests, the first step after such a gap runs slower than the back-to-back steps of
 * {@link MiningStepBenchmark}; this benchmark measures by how much on the machine at hand
 * (docs/PERFORMANCE.md, "2026-12-05, afternoon: what the step in the service pays for", and
 * "2026-12-06, 21:55–23:45" for what the loss is made of).
 *
 * <pre>mvn -B -q test-compile exec:exec@jmh -Djmh.args="IdleGapStepBenchmark -p memory=16384 -p dim=128 -p strategy=batch-hard"</pre>
 *
 * <p>{@code -p gapMs=17 -p wakeMicros=0,300,3000,8000} splits the loss: the steps after a gap whose
 * CPUs were kept running for the last few milliseconds (docs/PERFORMANCE.md, "2026-12-06, late evening");
 * {@code -p gapSpin=none,both} the steps after a gap with no idle CPU at all; {@code -p gapSpin=none,warmer}
 * the steps after a gap through which the miner kept its data warm.
 */
public class IdleGapStepBenchmark extends MiningStepBenchmark {
    @Param({"0", "17"})
    int gapMs;

    /**
     * After the gap and before the step, keep the calling thread and a worker of the common pool
     * (the step's second thread) spinning for this long, untimed: what a CPU woken early gets back of
     * the gap's loss (its wake-up and its clock), and what it does not (the step's data, gone from
     * the caches while it idled).
     */
    @Param({"0"})
    int wakeMicros;

    /**
     * Who spins through the gap instead of sleeping: {@code none}, the step's second thread (a
     * worker of the common pool, {@code worker}), the calling thread ({@code caller}) or
     * {@code both}. With {@code both} no CPU idles between steps, only time passes: what the step
     * still loses then is not the idle CPU's (docs/PERFORMANCE.md, "2026-12-06, 21:55–23:45").
     * {@code touch}: the calling thread sleeps, and the worker reads the memory's rows (one float
     * per cache line) every 2 ms and spins in between — what the step gets back when its memory
     * matrix stays in the caches through the gap. {@code warmer}: the calling thread sleeps, and the
     * miner keeps its data warm as the service does by default ({@code memory.keep-warm} of 200 ms:
     * the MemoryWarmer's thread reads the memory's rows and the scores from 8 ms after the step every
     * 2 ms, parked in between; docs/PERFORMANCE.md, "2026-12-07, night").
     */
    @Param({"none"})
    String gapSpin;

    private static final long TOUCH_EVERY_NANOS = 2_000_000L;

    /** What the reads of {@code gapSpin=touch} summed, kept so that they are not optimised away. */
    volatile float touched;

    @Setup(Level.Trial)
    public void checkGapSpin() {
        if (!List.of("none", "worker", "caller", "both", "touch", "warmer").contains(gapSpin)) {
            throw new IllegalArgumentException("gapSpin: none, worker, caller, both, touch or warmer, not " + gapSpin);
        }
    }

    @Override
    Duration keepWarm() {
        return gapSpin.equals("warmer")
                ? ServiceConfig.parseDuration("memory.keep-warm", ServiceConfig.DEFAULT_MEMORY_KEEP_WARM) : Duration.ZERO;
    }

    @Setup(Level.Invocation)
    public void idle() throws InterruptedException {
        if (gapMs > 0) {
            long gapEnd = System.nanoTime() + gapMs * 1_000_000L;
            if (gapSpin.equals("touch")) {
                ForkJoinPool.commonPool().execute(() -> touchUntil(gapEnd));
            }
            if (gapSpin.equals("worker") || gapSpin.equals("both")) {
                ForkJoinPool.commonPool().execute(() -> spinUntil(gapEnd));
            }
            if (gapSpin.equals("caller") || gapSpin.equals("both")) {
                spinUntil(gapEnd);
            } else {
                Thread.sleep(gapMs);
            }
        }
        if (wakeMicros > 0) {
            long end = System.nanoTime() + wakeMicros * 1_000L;
            ForkJoinPool.commonPool().execute(() -> spinUntil(end));
            spinUntil(end);
        }
    }

    /** Reads the memory's rows every {@link #TOUCH_EVERY_NANOS}, spinning in between, until {@code nanoTime}. */
    private void touchUntil(long nanoTime) {
        float sum = 0;
        while (System.nanoTime() - nanoTime < 0) {
            sum += MemoryTouch.touch(bank);
            long next = System.nanoTime() + TOUCH_EVERY_NANOS;
            spinUntil(next - nanoTime < 0 ? next : nanoTime);
        }
        touched = sum;
    }

    private static void spinUntil(long nanoTime) {
        while (System.nanoTime() - nanoTime < 0) {
            Thread.onSpinWait();
        }
    }
}
