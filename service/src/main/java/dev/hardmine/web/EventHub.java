package dev.hardmine.web;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Fans server-sent events out to the open streams. Each stream has a bounded queue; a stream
 * that falls that far behind is ended (the browser's EventSource reconnects and reloads), so a
 * slow client never holds memory or the publisher up.
 */
final class EventHub {
    static final int QUEUE = 256;
    private static final String WAKE_UP = "";

    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();

    /** A stream's queue of encoded events; {@code job} null for every job. */
    final class Subscription implements AutoCloseable {
        private final String job;
        private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE);
        private volatile boolean ended;

        private Subscription(String job) {
            this.job = job;
        }

        /** The next encoded event, null on timeout; throws once the stream has ended. */
        String next(long timeout, TimeUnit unit) throws InterruptedException, Ended {
            String event = ended ? null : queue.poll(timeout, unit);
            if (ended) {
                throw new Ended();
            }
            return event;
        }

        private void offer(String event) {
            if (!queue.offer(event)) {
                end();
            }
        }

        private void end() {
            ended = true;
            queue.offer(WAKE_UP); // a waiting next() returns; if the queue is full it returns at once anyway
        }

        @Override
        public void close() {
            subscriptions.remove(this);
        }
    }

    /** The stream has ended: the hub closed or the client fell behind. */
    static final class Ended extends Exception {
        Ended() {
            super(null, null, false, false);
        }
    }

    Subscription subscribe(String job) {
        Subscription s = new Subscription(job);
        subscriptions.add(s);
        return s;
    }

    /** Sends an event to every stream, or to the streams of {@code job} only when it is not null. */
    void publish(String job, String name, String json) {
        String event = "event: " + name + "\ndata: " + json + "\n\n";
        for (Subscription s : subscriptions) {
            if (job == null || s.job == null || s.job.equals(job)) {
                s.offer(event);
            }
        }
    }

    int open() {
        return subscriptions.size();
    }

    /** Ends every stream. */
    void close() {
        subscriptions.forEach(Subscription::end);
    }
}
