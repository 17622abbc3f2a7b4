package dev.hardmine.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.EmbeddingBatch;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/** Publishes batches in order, one every {@code interval}, on a thread of its own, as trainers would. */
public final class PacedPublisher extends Thread {
    private final List<EmbeddingBatch> batches;
    private final Consumer<EmbeddingBatch> send;
    private final Duration interval;
    private final AtomicInteger sent = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /** @param send publishes one batch and returns once the broker has it */
    public PacedPublisher(List<EmbeddingBatch> batches, Duration interval, Consumer<EmbeddingBatch> send) {
        super("paced-publisher");
        this.batches = batches;
        this.send = send;
        this.interval = interval;
        setDaemon(true);
    }

    @Override
    public void run() {
        try {
            for (EmbeddingBatch batch : batches) {
                send.accept(batch);
                sent.incrementAndGet();
                Thread.sleep(interval.toMillis());
            }
        } catch (Throwable t) {
            failure.set(t);
        }
    }

    public int sent() {
        return sent.get();
    }

    /** Waits until every batch is published; fails if publishing failed or took longer than {@code timeout}. */
    public void awaitDone(Duration timeout) throws InterruptedException {
        join(timeout.toMillis());
        assertThat(failure.get()).as("publishing failed").isNull();
        assertThat(sent.get()).as("batches published").isEqualTo(batches.size());
    }
}
