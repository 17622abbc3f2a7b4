package dev.hardmine.web;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The service-wide series the stats windows do not carry — consumer lag and dead letters —
 * sampled at a fixed interval and kept for an hour.
 */
final class ServiceHistory {
    static final long KEEP_MS = Duration.ofHours(1).toMillis();

    /** One sample; {@code consumerLag} is -1 when unknown. */
    record Sample(long at, long consumerLag, long deadLetters) {
    }

    private final Deque<Sample> samples = new ArrayDeque<>();

    synchronized void add(Sample s) {
        samples.addLast(s);
        while (samples.peekFirst().at() < s.at() - KEEP_MS) {
            samples.pollFirst();
        }
    }

    /** Samples taken after {@code sinceMs}, oldest first. */
    synchronized List<Sample> since(long sinceMs) {
        List<Sample> out = new ArrayList<>();
        for (Sample s : samples) {
            if (s.at() > sinceMs) {
                out.add(s);
            }
        }
        return out;
    }
}
