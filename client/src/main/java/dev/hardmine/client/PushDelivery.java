package dev.hardmine.client;

import dev.hardmine.avro.MinedBatch;
import dev.hardmine.retry.Backoff;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidGroupIdException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thread of a {@link MinedBatchSubscriber} in push style: polls, hands each batch to the
 * callback, and retries a retriable read error after the subscriber's backoff, until stopped or a
 * fatal error. It completes {@code failure} when it ends: with the fatal error, or null when stopped.
 */
final class PushDelivery {
    private static final Logger LOG = LoggerFactory.getLogger(MinedBatchSubscriber.class);
    private static final Duration POLL = Duration.ofMillis(200);

    private final String jobId;
    private final Function<Duration, List<MinedBatch>> poll;
    private final Consumer<MinedBatch> callback;
    private final Backoff backoff;
    private final CompletableFuture<Throwable> failure;
    private final Thread thread;
    private volatile boolean stopped;
    /** Counted down by {@link #stop()}, so that a pause between retries ends at once. */
    private final CountDownLatch stopSignal = new CountDownLatch(1);

    PushDelivery(String jobId, Function<Duration, List<MinedBatch>> poll, Consumer<MinedBatch> callback,
                 Backoff backoff, CompletableFuture<Throwable> failure) {
        this.jobId = jobId;
        this.poll = poll;
        this.callback = callback;
        this.backoff = backoff;
        this.failure = failure;
        this.thread = new Thread(this::run, "hardmine-mined-" + jobId);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Whether the caller is the delivery thread (the callback, then). */
    boolean isCurrentThread() {
        return Thread.currentThread() == thread;
    }

    /** Ends delivery: no batch is handed over once this returns; the thread ends after its callback. */
    void stop() {
        stopped = true;
        stopSignal.countDown();
    }

    /** Waits at most {@code millis} for the thread to end. */
    void join(long millis) throws InterruptedException {
        thread.join(millis);
    }

    private void run() {
        Throwable fatal = null;
        try {
            int failuresInRow = 0;
            while (!stopped) {
                List<MinedBatch> batches;
                try {
                    batches = poll.apply(POLL);
                    failuresInRow = 0;
                } catch (RuntimeException e) {
                    if (stopped) {
                        break;
                    }
                    if (isFatal(e)) {
                        throw e;
                    }
                    long pause = backoff.delay(++failuresInRow).toMillis();
                    LOG.warn("reading mined batches of job {} failed; retrying in {} ms", jobId, pause, e);
                    stopSignal.await(pause, TimeUnit.MILLISECONDS);
                    continue;
                }
                for (MinedBatch batch : batches) {
                    if (stopped) {
                        break;
                    }
                    try {
                        callback.accept(batch);
                    } catch (RuntimeException e) {
                        LOG.error("the mined-batch callback failed on batch {} (step {})", batch.getBatchId(), batch.getStep(), e);
                    }
                }
            }
        } catch (InterruptedException e) {
            fatal = e;
            LOG.error("the mined-batch thread of job {} was interrupted; delivery stops", jobId);
        } catch (RuntimeException | Error e) {
            fatal = e;
            LOG.error("delivery of the mined batches of job {} stops on a fatal error", jobId, e);
        } finally {
            failure.complete(fatal);
        }
    }

    /** Whether retrying cannot help: the settings, the rights or the consumer itself are wrong. */
    private static boolean isFatal(RuntimeException e) {
        return !(e instanceof KafkaException)
                || e instanceof AuthenticationException
                || e instanceof AuthorizationException
                || e instanceof InvalidTopicException
                || e instanceof InvalidGroupIdException
                || e instanceof FencedInstanceIdException
                || e instanceof UnsupportedVersionException
                || e instanceof InterruptException;
    }
}
