package dev.hardmine.bench;

import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * What the mined topic showed during one phase: batches and embeddings made visible to a
 * {@code read_committed} reader, their triplets, the latency from the batch's {@code produced_at}
 * to the service's {@code mined_at} and to the moment the reader saw it, and the service's own
 * mining time per batch. Written by the reader's thread, read when the phase ends.
 */
final class PhaseMeter {
    private static final long MAX_MS = 3_600_000;

    private final long startNanos = System.nanoTime();
    private final Histogram visible = new Histogram(MAX_MS, 3);
    private final Histogram mined = new Histogram(MAX_MS, 3);
    private final Histogram miningMicros = new Histogram(MAX_MS * 1000, 3);
    private long batches;
    private long embeddings;
    private long triplets;
    private double memorySizeSum;
    private long records;
    private long endNanos;

    /**
     * Latencies and counts of one mined batch, or of one shard's part of it.
     *
     * @param completes whether this record completes its batch (always, without sharding)
     */
    synchronized void record(long producedAt, long minedAt, long seenAt, boolean completes, long anchors,
                             int tripletCount, double miningMs, long memorySize) {
        if (endNanos != 0) {
            return;
        }
        if (completes) {
            batches++;
        }
        records++;
        embeddings += anchors;
        triplets += tripletCount;
        memorySizeSum += memorySize;
        visible.recordValue(clamp(seenAt - producedAt, MAX_MS));
        mined.recordValue(clamp(minedAt - producedAt, MAX_MS));
        miningMicros.recordValue(clamp(Math.round(miningMs * 1000), MAX_MS * 1000));
    }

    private static long clamp(long v, long max) {
        return Math.max(0, Math.min(v, max));
    }

    /** Ends the phase: later records are not counted. */
    synchronized void end() {
        if (endNanos == 0) {
            endNanos = System.nanoTime();
        }
    }

    synchronized double seconds() {
        return ((endNanos == 0 ? System.nanoTime() : endNanos) - startNanos) / 1e9;
    }

    synchronized Result result(String name, double offered, JvmProbe.Snapshot jvm, List<ThreadTimes.Group> threads,
                               long inFlight) {
        double s = seconds();
        return new Result(name, offered, s, batches, embeddings / s, triplets / s,
                Latency.of(mined), Latency.of(visible),
                records == 0 ? Double.NaN : miningMicros.getMean() / 1000.0,
                miningMicros.getValueAtPercentile(99) / 1000.0,
                records == 0 ? Double.NaN : memorySizeSum / records, inFlight, jvm, threads);
    }

    /** Percentiles in milliseconds. */
    record Latency(double p50, double p95, double p99, double max) {
        static Latency of(Histogram h) {
            if (h.getTotalCount() == 0) {
                return new Latency(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
            }
            return new Latency(h.getValueAtPercentile(50), h.getValueAtPercentile(95), h.getValueAtPercentile(99),
                    h.getMaxValue());
        }
    }

    /**
     * One phase's figures.
     *
     * @param offered        offered embeddings/s; 0 when publishers sent as fast as the in-flight bound let them
     * @param minedLatency   {@code produced_at → mined_at}, the service's own stamp
     * @param visibleLatency {@code produced_at →} seen by a {@code read_committed} consumer (after the commit)
     * @param inFlight       batches published and not yet seen mined, when the phase ended
     * @param jvm            garbage collection and memory; null for a phase reported in slices (each slice has its own)
     * @param threads        the JVM's threads by group ({@link ThreadTimes#between}); null for a slice, and where
     *                       the system keeps no per-thread statistics
     */
    record Result(String name, double offered, double seconds, long batches, double embeddingsPerSecond,
                  double tripletsPerSecond, Latency minedLatency, Latency visibleLatency, double miningMsMean,
                  double miningMsP99, double memorySize, long inFlight, JvmProbe.Snapshot jvm,
                  List<ThreadTimes.Group> threads) {
    }
}
