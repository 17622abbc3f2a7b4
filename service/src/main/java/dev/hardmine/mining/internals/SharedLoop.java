package dev.hardmine.mining.internals;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * {@code body(0 … n)} on the calling thread and on the common fork-join pool's workers, each
 * thread taking the next index as soon as it is done with its last. On a machine where other
 * threads (Kafka's, a broker's) take a core now and then, a fixed split into one part per thread
 * makes the caller wait for a part whose thread was preempted or woke late; here whoever has a
 * core does the work, and the caller waits at most for the indices already begun. A worker that
 * has not started by the time every index is taken is not waited for: it finds nothing to do.
 *
 * <p>Which thread runs an index is left to scheduling, so {@code body} must write its result to
 * a place of its index's own. What a body reuses from one index to the next (scratch arrays) it
 * keeps by worker number ({@link Body}), not in thread-locals: the common pool's workers clear
 * their thread-locals after every task they take, so a worker's thread-local scratch was made anew
 * for every loop.
 */
public final class SharedLoop {
    private SharedLoop() {
    }

    /** The body of a loop: index {@code index}, run by worker {@code worker}, below {@link #workers()}. */
    @FunctionalInterface
    public interface Body {
        void accept(int index, int worker);
    }

    /**
     * How many workers a loop may run on: the caller, worker 0, and the helpers. Within one loop a
     * worker number stands for one thread at a time, and everything a worker did in one loop
     * happens before the next loop starts.
     */
    public static int workers() {
        return 1 + ForkJoinPool.getCommonPoolParallelism();
    }

    /** Runs {@code body} for every index below {@code n}; on the caller alone unless {@code parallel}. */
    public static void run(int n, IntConsumer body, boolean parallel) {
        run(n, (index, worker) -> body.accept(index), parallel);
    }

    /** Runs {@code body} for every index below {@code n}; on the caller alone unless {@code parallel}. */
    public static void run(int n, Body body, boolean parallel) {
        int helpers = parallel ? Math.min(n - 1, workers() - 1) : 0;
        if (helpers <= 0) {
            for (int i = 0; i < n; i++) {
                body.accept(i, 0);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Helper[] workers = new Helper[helpers];
        for (int h = 0; h < helpers; h++) {
            workers[h] = new Helper(next, n, body, h + 1);
            ForkJoinPool.commonPool().execute(workers[h]);
        }
        try {
            drain(next, n, body, 0);
        } finally {
            next.set(n); // after a failure here, the helpers stop at their current index
            for (Helper helper : workers) {
                if (!helper.claim()) {
                    helper.join(); // rethrows what failed in the helper
                }
            }
        }
    }

    private static void drain(AtomicInteger next, int n, Body body, int worker) {
        for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
            body.accept(i, worker);
        }
    }

    private static final class Helper extends RecursiveAction {
        private final AtomicBoolean started = new AtomicBoolean();
        private final AtomicInteger next;
        private final int n;
        private final Body body;
        private final int worker;

        Helper(AtomicInteger next, int n, Body body, int worker) {
            this.next = next;
            this.n = n;
            this.body = body;
            this.worker = worker;
        }

        /** True for the first caller only: the helper's thread when it starts, or the loop's caller when it never did. */
        boolean claim() {
            return started.compareAndSet(false, true);
        }

        @Override
        protected void compute() {
            if (!claim()) {
                return;
            }
            try {
                drain(next, n, body, worker);
            } catch (RuntimeException | Error e) {
                next.set(n);
                throw e;
            }
        }
    }
}
