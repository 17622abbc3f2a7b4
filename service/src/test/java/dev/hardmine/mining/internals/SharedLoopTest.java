package dev.hardmine.mining.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class SharedLoopTest {

    @Test
    void runsEveryIndexExactlyOnceOnEitherPath() {
        for (boolean parallel : new boolean[] {true, false}) {
            for (int n : new int[] {0, 1, 2, 3, 257}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(n, 1));
                SharedLoop.run(n, i -> runs.incrementAndGet(i), parallel);
                for (int i = 0; i < n; i++) {
                    assertThat(runs.get(i)).as("index %d of %d, parallel %s", i, n, parallel).isEqualTo(1);
                }
            }
        }
    }

    /**
     * A worker number stands for one thread at a time within a loop (so that a body may keep its
     * scratch by worker), the caller's is 0, and all are below workers(): no worker number is ever
     * busy twice at once over many short bodies on the caller and the pool. The pool's workers hold
     * their first index of a loop until the caller has run one (for 5 s at most): a worker already
     * awake may otherwise take all 200 short bodies before the caller takes its first, and the
     * caller's part is what this test checks too.
     */
    @Test
    void aWorkerNumberIsOneThreadAtATime() {
        int workers = SharedLoop.workers();
        AtomicIntegerArray busy = new AtomicIntegerArray(workers);
        AtomicIntegerArray used = new AtomicIntegerArray(workers);
        Set<String> problems = ConcurrentHashMap.newKeySet();
        Thread caller = Thread.currentThread();
        AtomicBoolean waitedInVain = new AtomicBoolean(); // then the caller never runs: stop holding the workers
        for (int loop = 0; loop < 50; loop++) {
            AtomicBoolean callerRan = new AtomicBoolean();
            SharedLoop.run(200, (i, worker) -> {
                if (worker == 0) {
                    callerRan.set(true);
                } else if (!callerRan.get() && !waitedInVain.get()) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (!callerRan.get() && System.nanoTime() - deadline < 0) {
                        Thread.onSpinWait();
                    }
                    waitedInVain.compareAndSet(false, !callerRan.get());
                }
                if (worker < 0 || worker >= workers) {
                    problems.add("worker " + worker + " of " + workers);
                    return;
                }
                if (!busy.compareAndSet(worker, 0, 1)) {
                    problems.add("worker " + worker + " busy twice at once");
                }
                if ((worker == 0) != (Thread.currentThread() == caller)) {
                    problems.add("worker " + worker + " on " + Thread.currentThread().getName());
                }
                used.incrementAndGet(worker);
                Thread.onSpinWait();
                busy.set(worker, 0);
            }, true);
        }
        assertThat(problems).isEmpty();
        assertThat(used.get(0)).isPositive();
    }

    @Test
    void sequentialRunsOnTheCallerInOrder() {
        StringBuilder order = new StringBuilder();
        Thread caller = Thread.currentThread();
        SharedLoop.run(5, i -> {
            assertThat(Thread.currentThread()).isSameAs(caller);
            order.append(i);
        }, false);
        assertThat(order).hasToString("01234");
    }

    /**
     * With every worker of the common pool held up, the loop does not wait for them: the caller
     * takes every index itself and returns while they are still held. A fixed split (one part per
     * thread) would wait for the held workers.
     */
    @Test
    @Timeout(30)
    void theCallerDoesNotWaitForWorkersThatAreBusyElsewhere() throws Exception {
        int workers = ForkJoinPool.getCommonPoolParallelism();
        CountDownLatch held = new CountDownLatch(workers);
        CountDownLatch release = new CountDownLatch(1);
        ForkJoinTask<?>[] blockers = new ForkJoinTask<?>[workers];
        for (int w = 0; w < workers; w++) {
            blockers[w] = ForkJoinPool.commonPool().submit(() -> {
                held.countDown();
                release.await(20, TimeUnit.SECONDS);
                return null;
            });
        }
        try {
            assertThat(held.await(10, TimeUnit.SECONDS)).as("every common-pool worker held").isTrue();
            Set<Thread> ran = ConcurrentHashMap.newKeySet();
            SharedLoop.run(64, i -> ran.add(Thread.currentThread()), true);
            assertThat(ran).containsExactly(Thread.currentThread());
            assertThat(release.getCount()).as("returned while the workers were still held").isEqualTo(1);
        } finally {
            release.countDown();
            for (ForkJoinTask<?> blocker : blockers) {
                blocker.join();
            }
        }
    }

    @Test
    void aFailureInTheBodyReachesTheCallerWhicheverThreadRanIt() {
        for (boolean parallel : new boolean[] {true, false}) {
            assertThatThrownBy(() -> SharedLoop.run(200, i -> {
                if (i == 150) {
                    throw new IllegalStateException("index " + i);
                }
            }, parallel)).isInstanceOf(IllegalStateException.class).hasMessageContaining("index 150");
        }
    }
}
