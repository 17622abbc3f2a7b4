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
 * a place of its index's own.
 */
public final class SharedLoop {
    private SharedLoop() {
    }

    /** Runs {@code body} for every index below {@code n}; on the caller alone unless {@code parallel}. */
    public static void run(int n, IntConsumer body, boolean parallel) {
        int helpers = parallel ? Math.min(n - 1, ForkJoinPool.getCommonPoolParallelism()) : 0;
        if (helpers <= 0) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Helper[] workers = new Helper[helpers];
        for (int h = 0; h < helpers; h++) {
            workers[h] = new Helper(next, n, body);
            ForkJoinPool.commonPool().execute(workers[h]);
        }
        try {
            drain(next, n, body);
        } finally {
            next.set(n); // after a failure here, the helpers stop at their current index
            for (Helper helper : workers) {
                if (!helper.claim()) {
                    helper.join(); // rethrows what failed in the helper
                }
            }
        }
    }

    private static void drain(AtomicInteger next, int n, IntConsumer body) {
        for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
            body.accept(i);
        }
    }

    private static final class Helper extends RecursiveAction {
        private final AtomicBoolean started = new AtomicBoolean();
        private final AtomicInteger next;
        private final int n;
        private final IntConsumer body;

        Helper(AtomicInteger next, int n, IntConsumer body) {
            this.next = next;
            this.n = n;
            this.body = body;
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
                drain(next, n, body);
            } catch (RuntimeException | Error e) {
                next.set(n);
                throw e;
            }
        }
    }
}
