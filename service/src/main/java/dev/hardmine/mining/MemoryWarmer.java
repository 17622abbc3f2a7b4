package dev.hardmine.mining;

import java.nio.FloatBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Reads a job's data between its batches (its memory, the scores its step writes), so that the next
 * batch's step finds them in the CPU's caches. On the virtual machines measured (docs/PERFORMANCE.md),
 * a step that follows the last one after the idle gap of a paced trainer (17 ms at 10 000
 * embeddings/s) took 1.14–1.45× its time back to back, and the loss followed the time since the last
 * step whatever the CPUs did meanwhile; reading the data every 2 ms through the gap gives back most
 * of it, for 0.14–0.21 of a core at that rate.
 *
 * <p>One thread per warmer and one job at a time: the data last {@link #keep kept}, for a bounded time
 * after its batch ({@code memory.keep-warm}) or until the next step of any job {@link #stop}s it — a
 * step needs the CPUs, and the data kept is the last batch's, not necessarily the next one's. The
 * thread reads one float per 64-byte cache line, {@link #DELAY_NANOS} after the keep and then every
 * {@link #PERIOD_NANOS}, in chunks of {@link #CHUNK_FLOATS}, each under a lock that {@code stop} takes
 * too: once {@code stop} returns, nothing is read until the next {@code keep}, so that the data may
 * change, grow or be freed. A stop waits for one chunk at most (64 KiB).
 */
final class MemoryWarmer implements AutoCloseable {
    /**
     * How long after a keep the first read comes: the data is still in the caches then, and a job
     * mined at capacity has its next batch within a few milliseconds (about 4 between steps on the
     * 2-core test machine) — a read then would take the CPU from the work between its steps. In JMH
     * the step after a 17 ms gap took as long with a first read after 2, 5, 8 or 11 ms
     * (docs/PERFORMANCE.md): the reads that count are those shortly before the next step.
     */
    static final long DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(8);
    /** How often the data is read through from then on; every 1 ms gave the step nothing more. */
    static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    /** Floats read under the lock at a time: 64 KiB of rows, one float per cache line of it. */
    static final int CHUNK_FLOATS = 1 << 14;
    /**
     * At most this many floats (32 MiB) are kept warm, the first regions' first: more would not stay
     * in the caches, and would take a core to read every period.
     */
    static final int MAX_FLOATS = 8 << 20;
    private static final int FLOATS_PER_LINE = 16;

    /** {@code floats[0, length)}: what is kept warm, one or more of them. */
    record Region(FloatBuffer floats, int length) {
    }

    /** Reads {@code rows[from, to)} for the warmer; tests check what and when it reads. */
    interface Reader {
        float read(FloatBuffer rows, int from, int to);
    }

    /** Reads one float per cache line and returns their sum, so that the reads cannot be left out. */
    static final Reader EVERY_LINE = (rows, from, to) -> {
        float sum = 0;
        for (int i = from; i < to; i += FLOATS_PER_LINE) {
            sum += rows.get(i);
        }
        return sum;
    };

    private static final class Shared {
        static final MemoryWarmer INSTANCE = new MemoryWarmer(DELAY_NANOS, PERIOD_NANOS, EVERY_LINE);
    }

    /** The warmer of this JVM: its thread starts at the first {@link #keep} and is a daemon. */
    static MemoryWarmer shared() {
        return Shared.INSTANCE;
    }

    private final long delayNanos;
    private final long periodNanos;
    private final Reader reader;
    /** Fair: a stop waiting for the lock gets it after the chunk being read, not after the whole pass. */
    private final ReentrantLock lock = new ReentrantLock(true);
    private final Condition changed = lock.newCondition();
    // Everything below is guarded by lock.
    private Thread thread;
    private boolean closed;
    private Region[] regions;
    private int region;
    private int from;
    private long due;
    private long until;
    private long chunksRead;
    private float sink;

    MemoryWarmer(long delayNanos, long periodNanos, Reader reader) {
        this.delayNanos = delayNanos;
        this.periodNanos = periodNanos;
        this.reader = reader;
    }

    /**
     * Keeps {@code regions} warm for {@code forNanos} from now, in place of whatever was kept: a miner
     * calls it right after its step, and {@link #stop} before anything changes, grows or frees them.
     */
    void keep(long forNanos, Region... regions) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            long now = System.nanoTime();
            this.regions = bounded(regions);
            this.region = 0;
            this.from = 0;
            this.due = now + delayNanos;
            this.until = now + forNanos;
            if (thread == null || !thread.isAlive()) {
                thread = new Thread(this::run, "hardmine-memory-warmer");
                thread.setDaemon(true);
                thread.start();
            }
            changed.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Stops keeping anything warm: once it returns, nothing is read until the next {@link #keep}. */
    void stop() {
        lock.lock();
        try {
            forget();
        } finally {
            lock.unlock();
        }
    }

    /** {@code regions} cut to {@link #MAX_FLOATS} in all. */
    private static Region[] bounded(Region[] regions) {
        Region[] out = regions.clone();
        long left = MAX_FLOATS;
        for (int r = 0; r < out.length; r++) {
            int length = (int) Math.min(out[r].length(), left);
            out[r] = new Region(out[r].floats(), length);
            left -= length;
        }
        return out;
    }

    /** Chunks read so far. */
    long chunksRead() {
        lock.lock();
        try {
            return chunksRead;
        } finally {
            lock.unlock();
        }
    }

    /** Whether something is kept warm now. */
    boolean keeping() {
        lock.lock();
        try {
            return regions != null;
        } finally {
            lock.unlock();
        }
    }

    private void forget() {
        regions = null;
    }

    private void run() {
        while (true) {
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                long now = System.nanoTime();
                if (regions != null && now - until >= 0) {
                    forget();
                }
                if (regions == null) {
                    changed.await();
                } else if (region == 0 && from == 0 && now - due < 0) {
                    changed.awaitNanos(due - now);
                } else {
                    Region r = regions[region];
                    int to = (int) Math.min(r.length(), (long) from + CHUNK_FLOATS);
                    sink += reader.read(r.floats(), from, to);
                    chunksRead++;
                    from = to;
                    if (to >= r.length()) {
                        from = 0;
                        region = (region + 1) % regions.length;
                        if (region == 0) {
                            due = now + periodNanos;
                        }
                    }
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    /** Stops the thread, after the chunk it may be reading; tests close their own warmers, the shared one is never closed. */
    @Override
    public void close() {
        Thread running;
        lock.lock();
        try {
            closed = true;
            forget();
            changed.signal();
            running = thread;
        } finally {
            lock.unlock();
        }
        if (running != null) {
            try {
                running.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
