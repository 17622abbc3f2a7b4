package dev.hardmine.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * W training workers that publish pre-encoded batches, each on its own thread with its own
 * producer, at a pace set for all of them:
 * <ul>
 *   <li>a fixed offered rate, open loop: each worker sends on a schedule and stamps
 *       {@code produced_at} with the time the batch was due, so a worker that falls behind adds its
 *       delay to the measured latency instead of hiding it;</li>
 *   <li>as fast as the service takes them: at most {@code maxInFlight} batches published and not
 *       yet seen mined, to measure capacity;</li>
 *   <li>paused.</li>
 * </ul>
 */
final class Publishers implements AutoCloseable {
    private final List<Worker> workers = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong inFlight = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final int maxInFlight;
    private final Object paceLock = new Object();
    /** Offered embeddings/s; 0 = as fast as the in-flight bound allows; negative = paused. */
    private double rate = -1;
    private long paceGeneration;

    /**
     * @param jobs           job of each worker, by worker index
     * @param pools          pre-encoded batches of each worker
     * @param clientSettings bootstrap servers and any security settings of the cluster
     */
    Publishers(List<String> jobs, List<BatchPool> pools, int schemaId, String topic,
               Map<String, Object> clientSettings, int maxInFlight) {
        this.maxInFlight = maxInFlight;
        for (int i = 0; i < jobs.size(); i++) {
            workers.add(new Worker(i, jobs.get(i), pools.get(i), schemaId, topic, clientSettings));
        }
    }

    void start() {
        workers.forEach(w -> w.thread.start());
    }

    /** Offers {@code embeddingsPerSecond} in total, spread evenly over the workers. */
    void offer(double embeddingsPerSecond) {
        pace(embeddingsPerSecond);
    }

    /** Publishes as fast as the service mines, with at most {@code maxInFlight} batches outstanding. */
    void asFastAsMined() {
        pace(0);
    }

    void pause() {
        pace(-1);
    }

    private void pace(double r) {
        synchronized (paceLock) {
            rate = r;
            paceGeneration++;
            paceLock.notifyAll();
        }
    }

    /** A batch came back mined: one less in flight. */
    void seen() {
        inFlight.decrementAndGet();
        synchronized (paceLock) {
            paceLock.notifyAll();
        }
    }

    long inFlight() {
        return inFlight.get();
    }

    /** Sends that Kafka reported as failed. */
    long failures() {
        return failures.get();
    }

    int count() {
        return workers.size();
    }

    /** Batches worker {@code i} has published. */
    long published(int i) {
        return workers.get(i).sent;
    }

    long published() {
        return workers.stream().mapToLong(w -> w.sent).sum();
    }

    private final class Worker implements Runnable {
        final int index;
        final String jobId;
        final String workerId;
        final BatchPool pool;
        final int schemaId;
        final String topic;
        final KafkaProducer<String, byte[]> producer;
        final Thread thread;
        volatile long sent;

        Worker(int index, String jobId, BatchPool pool, int schemaId, String topic, Map<String, Object> settings) {
            this.index = index;
            this.jobId = jobId;
            this.workerId = "p" + index;
            this.pool = pool;
            this.schemaId = schemaId;
            this.topic = topic;
            Map<String, Object> p = new HashMap<>(settings);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            p.put(ProducerConfig.LINGER_MS_CONFIG, 1);
            p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
            this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
            this.thread = new Thread(this, "bench-publisher-" + index);
            this.thread.setDaemon(true);
        }

        @Override
        public void run() {
            long generation = -1;
            long dueNanos = 0;
            long dueWallMillis = 0;
            double intervalNanos = 0;
            long k = 0;
            while (running.get()) {
                double r;
                synchronized (paceLock) {
                    r = rate;
                    if (paceGeneration != generation) {
                        generation = paceGeneration;
                        dueNanos = System.nanoTime();
                        dueWallMillis = System.currentTimeMillis();
                        k = 0;
                        intervalNanos = r > 0 ? 1e9 * pool.batchSize() * workers.size() / r : 0;
                        // Spread the workers' schedules over one interval; both clocks move together.
                        long spread = (long) (intervalNanos * index / workers.size());
                        dueNanos += spread;
                        dueWallMillis += spread / 1_000_000;
                    }
                    if (r < 0 || (r == 0 && inFlight.get() >= maxInFlight)) {
                        waitQuietly(paceLock, 50);
                        continue;
                    }
                }
                long producedAt;
                if (r > 0) {
                    long due = dueNanos + (long) (k * intervalNanos);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(Math.min(wait, 50_000_000L));
                        if (due - System.nanoTime() > 0) {
                            continue; // re-check the pace before sending
                        }
                    }
                    producedAt = dueWallMillis + (due - dueNanos) / 1_000_000;
                    k++;
                } else {
                    producedAt = System.currentTimeMillis();
                }
                send(producedAt);
            }
        }

        private void send(long producedAt) {
            long seq = sent;
            byte[] value = pool.record(schemaId, jobId, workerId, workerId + "-" + seq, seq, producedAt, seq);
            inFlight.incrementAndGet();
            producer.send(new ProducerRecord<>(topic, jobId, value), (md, e) -> {
                if (e != null) {
                    failures.incrementAndGet();
                }
            });
            sent = seq + 1;
        }
    }

    private static void waitQuietly(Object lock, long millis) {
        try {
            lock.wait(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running.set(false);
        pace(-1);
        for (Worker w : workers) {
            try {
                w.thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            w.producer.close();
        }
    }
}
