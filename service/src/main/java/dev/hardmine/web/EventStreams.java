package dev.hardmine.web;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The server-sent-event streams of {@code /api/events}: at most {@link #MAX_STREAMS} open, each
 * on a thread of a pool of their own, so that streams never hold up a probe, a scrape or the API.
 * A stream gets the events {@linkplain #publish published} for its job (or for any job) and
 * every service event, a comment every {@value #KEEP_ALIVE_SECONDS} s otherwise. It ends when the
 * client goes, the streams close, or the client falls {@value EventHub#QUEUE} events behind — or
 * stops reading: a write that has not gone through after the write timeout (10 s) interrupts the
 * stream's thread, which closes its connection (the exchange's channel is interruptible), so a
 * client that hangs without closing cannot keep its slot.
 */
final class EventStreams implements AutoCloseable {
    /** Open event streams at most; each holds a thread of the stream pool. */
    static final int MAX_STREAMS = 16;
    static final long KEEP_ALIVE_SECONDS = 15;
    static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);

    private final EventHub events = new EventHub();
    private final Semaphore slots = new Semaphore(MAX_STREAMS);
    private final ExecutorService pool;
    private final ScheduledExecutorService watchdog;
    private final Duration writeTimeout;
    private volatile boolean closed;

    EventStreams(ThreadFactory threads) {
        this(threads, WRITE_TIMEOUT);
    }

    EventStreams(ThreadFactory threads, Duration writeTimeout) {
        this.pool = Executors.newFixedThreadPool(MAX_STREAMS, threads);
        this.watchdog = Executors.newSingleThreadScheduledExecutor(threads);
        this.writeTimeout = writeTimeout;
    }

    /** Sends an event to the streams of {@code job} and to those of every job ({@code job} null: to all). */
    void publish(String job, String event, String json) {
        events.publish(job, event, json);
    }

    /**
     * Opens a stream of {@code job}'s events (null: every job's) on the exchange; true when the
     * stream took the exchange over (it closes it), false when it answered 503 instead.
     */
    boolean open(HttpExchange ex, String job) throws IOException {
        if (!slots.tryAcquire()) {
            Responses.error(ex, 503, "too many event streams open");
            return false;
        }
        EventHub.Subscription subscription = events.subscribe(job);
        try {
            pool.execute(() -> follow(ex, subscription));
            return true;
        } catch (RejectedExecutionException e) { // closing
            subscription.close();
            slots.release();
            Responses.error(ex, 503, "closing");
            return false;
        }
    }

    /** Writes a stream's events, on a thread of the pool, until it ends; then closes the exchange. */
    private void follow(HttpExchange ex, EventHub.Subscription subscription) {
        try (ex; subscription) {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            write(out, "retry: 2000\n\n");
            while (!closed) {
                String event = subscription.next(KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
                write(out, event == null ? ": keep-alive\n\n" : event);
            }
        } catch (EventHub.Ended | IOException e) {
            // the client went, fell behind, or the streams are closing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            slots.release();
        }
    }

    /** Writes and flushes {@code text}; a write still blocked after the write timeout is interrupted. */
    private void write(OutputStream out, String text) throws IOException {
        Thread writer = Thread.currentThread();
        ScheduledFuture<?> guard = watchdog.schedule(writer::interrupt, writeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } finally {
            guard.cancel(false);
        }
    }

    /** Event streams open now. */
    int open() {
        return events.open();
    }

    /**
     * Ends every stream and stops the pool, after letting the streams end their responses (a last
     * chunk) for up to a second, so that the server can close the connections after them.
     */
    @Override
    public void close() {
        closed = true;
        events.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        try {
            while (slots.availablePermits() < MAX_STREAMS && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pool.shutdownNow();
        watchdog.shutdownNow();
    }
}
