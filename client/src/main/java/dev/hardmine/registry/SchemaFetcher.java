package dev.hardmine.registry;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import dev.hardmine.registry.internals.WireFormat;
import dev.hardmine.retry.Backoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches writer schemas in the background, so that a consumer whose registry cannot be reached
 * need not block on it: it asks {@link #isReady(byte[])} first and, on false, sets the record
 * aside and goes on with others.
 *
 * <p>A payload is ready when decoding it will not wait for the registry: its writer schema is
 * known to the client, or the registry gave the definite answer that it has no such schema (404:
 * decoding then fails with {@link UnknownSchemaIdException}), or it carries no schema id at all
 * (decoding fails with its own reason). Otherwise one fetch per schema id runs on a daemon thread
 * and is retried after each failure with {@link Backoff}: no answer, a timeout or a 5xx, and also
 * a registry that refuses this client (a rejected TLS certificate, 401, 403) — not transient
 * faults, but ones an operator fixes without the records being lost —
 * for as long as the failure lasts: a registry outage delays records, it never turns them into
 * failures. The caller that meets an id first waits for its fetch up to {@code firstWait}, so that a
 * registry that answers makes no record wait for a later attempt; callers after it never wait.
 *
 * <p>A definite failure is not remembered: the next payload with that id asks again. Thread-safe.
 */
public final class SchemaFetcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SchemaFetcher.class);

    /** Between two attempts of one fetch: from 200 ms, doubling up to 5 s, up to 20 % shorter at random. */
    public static final Backoff DEFAULT_BACKOFF = Backoff.doubling(Duration.ofMillis(200), Duration.ofSeconds(5))
            .withJitter(0.2);
    /** How long the first caller of an id waits for its fetch by default. */
    public static final Duration DEFAULT_FIRST_WAIT = Duration.ofSeconds(2);

    private final SchemaRegistryClient client;
    private final Backoff backoff;
    private final Duration firstWait;
    private final ConcurrentHashMap<Integer, Fetch> fetches = new ConcurrentHashMap<>();
    private final ExecutorService executor;
    private volatile boolean closed;

    /**
     * A fetcher that never waits: every payload is ready, and decoding it asks the registry itself
     * (for in-process registries, which are never out of reach).
     */
    public static SchemaFetcher none() {
        return new SchemaFetcher(null, DEFAULT_BACKOFF, Duration.ZERO, false);
    }

    /** A fetcher with {@link #DEFAULT_BACKOFF} and {@link #DEFAULT_FIRST_WAIT}. */
    public SchemaFetcher(SchemaRegistryClient client) {
        this(client, DEFAULT_BACKOFF, DEFAULT_FIRST_WAIT);
    }

    /**
     * @param client    the registry, whose cache keeps what is fetched (not closed by {@link #close()})
     * @param backoff   the wait between two attempts of one fetch
     * @param firstWait how long the caller that meets an id first waits for its fetch
     */
    public SchemaFetcher(SchemaRegistryClient client, Backoff backoff, Duration firstWait) {
        this(Objects.requireNonNull(client, "client"), backoff, firstWait, true);
    }

    private SchemaFetcher(SchemaRegistryClient client, Backoff backoff, Duration firstWait, boolean fetching) {
        this.client = client;
        this.closed = !fetching;
        this.backoff = Objects.requireNonNull(backoff, "backoff");
        this.firstWait = Objects.requireNonNull(firstWait, "firstWait");
        AtomicInteger threads = new AtomicInteger();
        // Threads only while fetches run: a fetcher nobody closes holds none for long.
        this.executor = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "schema-fetch-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * True when decoding {@code payload} will not wait for the registry; false while the fetch of
     * its writer schema waits for the registry to answer (the fetch goes on in the background).
     */
    public boolean isReady(byte[] payload) {
        if (client == null || payload == null || payload.length < WireFormat.HEADER_SIZE
                || payload[0] != WireFormat.MAGIC_BYTE) {
            return true;
        }
        int id = WireFormat.schemaId(payload);
        Fetch fetch = fetches.get(id);
        if (fetch == null) {
            Fetch mine = new Fetch(id);
            fetch = fetches.putIfAbsent(id, mine);
            if (fetch == null) {
                if (closed) {
                    fetches.remove(id, mine);
                    return true;
                }
                executor.execute(mine);
                return mine.await(firstWait);
            }
        }
        return fetch.answered.isDone();
    }

    /**
     * What the fetcher waits for, when it waits: the schema ids without an answer yet and the
     * registry's last failure; empty while every fetch has its answer.
     */
    public Optional<String> waitingFor() {
        TreeSet<Integer> ids = new TreeSet<>();
        SchemaRegistryException last = null;
        for (Fetch f : fetches.values()) {
            if (!f.answered.isDone()) {
                ids.add(f.id);
                last = f.lastFailure != null ? f.lastFailure : last;
            }
        }
        if (ids.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("waiting for the schema registry (" + client + ") to give writer schema id(s) " + ids
                + (last == null ? "" : ": " + last.getMessage()));
    }

    /** Whether {@link #close()} was called (or the fetcher never fetches: {@link #none()}). */
    public boolean isClosed() {
        return closed;
    }

    /** Stops the fetches that still wait; payloads of their ids count as ready from then on. */
    @Override
    public void close() {
        closed = true;
        executor.shutdownNow();
        fetches.values().forEach(f -> f.answered.complete(null));
    }

    /** One schema id's fetch: attempts until the registry answers (or the fetcher closes). */
    private final class Fetch implements Runnable {
        final int id;
        /** Completes when the registry answered, with the schema or a definite failure. */
        final CompletableFuture<Void> answered = new CompletableFuture<>();
        volatile SchemaRegistryException lastFailure;

        Fetch(int id) {
            this.id = id;
        }

        @Override
        public void run() {
            for (int retry = 1; !closed; retry++) {
                try {
                    client.getSchemaById(id);
                    if (lastFailure != null) {
                        LOG.info("schema registry answered for writer schema id {} after {} attempts", id, retry);
                    }
                    answered.complete(null);
                    return;
                } catch (SchemaRegistryException e) {
                    if (e.httpStatus() == 404) { // the registry's "no such schema"
                        definite();
                        return;
                    }
                    if (lastFailure == null) {
                        LOG.warn("schema registry failed to give writer schema id {}; records with it wait, "
                                + "retrying: {}", id, e.getMessage());
                    }
                    lastFailure = e;
                } catch (RuntimeException e) {
                    definite(); // the registry answered something unusable: decoding says what
                    return;
                }
                try {
                    Thread.sleep(backoff.delay(retry).toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        /** The answer is no schema: forgotten, so that the next payload of this id asks again. */
        private void definite() {
            fetches.remove(id, this);
            answered.complete(null);
        }

        boolean await(Duration wait) {
            try {
                answered.get(wait.toMillis(), TimeUnit.MILLISECONDS);
                return true;
            } catch (TimeoutException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return answered.isDone();
            } catch (ExecutionException e) {
                return true;
            }
        }
    }
}
