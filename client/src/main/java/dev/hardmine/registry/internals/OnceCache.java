package dev.hardmine.registry.internals;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;

/**
 * A cache that computes each key's value once, even when many threads ask for it at the same time
 * (they wait for the first), and that forgets failures so a later call tries again.
 */
final class OnceCache<K, V> {

    private final ConcurrentHashMap<K, CompletableFuture<V>> values = new ConcurrentHashMap<>();

    V get(K key, Function<K, V> compute) {
        CompletableFuture<V> existing = values.get(key);
        if (existing == null) {
            CompletableFuture<V> mine = new CompletableFuture<>();
            existing = values.putIfAbsent(key, mine);
            if (existing == null) {
                try {
                    V value = compute.apply(key);
                    mine.complete(value);
                    return value;
                } catch (RuntimeException | Error e) {
                    values.remove(key, mine);
                    mine.completeExceptionally(e);
                    throw e;
                }
            }
        }
        return join(existing);
    }

    /** Stores a value known from elsewhere (for example the id a registration returned). */
    void put(K key, V value) {
        values.putIfAbsent(key, CompletableFuture.completedFuture(value));
    }

    private static <V> V join(CompletableFuture<V> future) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return future.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException r) {
                        throw r;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
