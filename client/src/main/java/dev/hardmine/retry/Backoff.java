package dev.hardmine.retry;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * How long to wait before a retry: {@code initial} before the first, {@code multiplier} times longer
 * after each further failure in a row, never longer than {@code max}. With a {@code jitter} j above
 * 0, each wait is shortened by a random part of up to j of itself, so that clients that failed
 * together do not retry together. Waits are whole milliseconds.
 *
 * @param initial    wait before the first retry, at least 0
 * @param max        longest wait, at least {@code initial}
 * @param multiplier growth of the wait from one retry to the next, at least 1 (1: a fixed wait)
 * @param jitter     largest fraction taken off a wait at random, in [0, 1)
 */
public record Backoff(Duration initial, Duration max, double multiplier, double jitter) {

    public Backoff {
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(max, "max");
        if (initial.isNegative() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("a backoff needs 0 <= initial <= max, got " + initial + " and " + max);
        }
        if (!(multiplier >= 1) || Double.isInfinite(multiplier)) {
            throw new IllegalArgumentException("a backoff's multiplier must be finite and >= 1, got " + multiplier);
        }
        if (!(jitter >= 0 && jitter < 1)) {
            throw new IllegalArgumentException("a backoff's jitter must be in [0, 1), got " + jitter);
        }
    }

    /** The same wait before every retry. */
    public static Backoff fixed(Duration wait) {
        return new Backoff(wait, wait, 1, 0);
    }

    /** {@code initial}, doubled after each failure in a row, up to {@code max}; no jitter. */
    public static Backoff doubling(Duration initial, Duration max) {
        return new Backoff(initial, max, 2, 0);
    }

    /** This backoff with each wait shortened at random by up to {@code jitter} of itself. */
    public Backoff withJitter(double jitter) {
        return new Backoff(initial, max, multiplier, jitter);
    }

    /**
     * The wait before retry number {@code retry}, counted from 1 for the first retry after a
     * success (or after the start).
     */
    public Duration delay(int retry) {
        return delay(retry, ThreadLocalRandom.current());
    }

    /** {@link #delay(int)} with the jitter drawn from {@code random}. */
    public Duration delay(int retry, RandomGenerator random) {
        if (retry < 1) {
            throw new IllegalArgumentException("retries are counted from 1, got " + retry);
        }
        long maxMillis = max.toMillis();
        double grown = initial.toMillis() * Math.pow(multiplier, retry - 1);
        long capped = grown >= maxMillis ? maxMillis : (long) grown;
        long cut = jitter == 0 || capped == 0 ? 0 : random.nextLong((long) (capped * jitter) + 1);
        return Duration.ofMillis(capped - cut);
    }
}
