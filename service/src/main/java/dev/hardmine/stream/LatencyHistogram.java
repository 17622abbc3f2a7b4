package dev.hardmine.stream;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Counts of non-negative millisecond values in buckets 5% wide (bucket 0 holds values below 1 ms),
 * for percentiles within 5% without keeping every value. Mergeable and compact to serialise.
 */
public final class LatencyHistogram {
    private static final double GROWTH = 1.05;
    private static final double LOG_GROWTH = Math.log(GROWTH);
    private static final int MAX_BUCKETS = 700; // 1.05^700 ms is far beyond any latency

    private long[] counts = new long[0];
    private long total;

    static int bucketOf(double ms) {
        if (!(ms >= 1.0)) {
            return 0;
        }
        return Math.min(MAX_BUCKETS - 1, 1 + (int) Math.floor(Math.log(ms) / LOG_GROWTH));
    }

    /** The largest value of a bucket, reported for percentiles that fall in it. */
    static double upperBound(int bucket) {
        return bucket == 0 ? 1.0 : Math.pow(GROWTH, bucket);
    }

    public void record(double ms) {
        int b = bucketOf(Math.max(0, ms));
        if (b >= counts.length) {
            counts = Arrays.copyOf(counts, b + 1);
        }
        counts[b]++;
        total++;
    }

    public long count() {
        return total;
    }

    /** The value below which a fraction {@code q} of the recorded values fall (bucket upper bound); 0 when empty. */
    public double percentile(double q) {
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int b = 0; b < counts.length; b++) {
            seen += counts[b];
            if (seen >= Math.max(1, rank)) {
                return upperBound(b);
            }
        }
        return upperBound(counts.length - 1);
    }

    void writeTo(ByteBuffer out) {
        int used = 0;
        for (long c : counts) {
            if (c > 0) {
                used++;
            }
        }
        out.putInt(used);
        for (int b = 0; b < counts.length; b++) {
            if (counts[b] > 0) {
                out.putShort((short) b).putLong(counts[b]);
            }
        }
    }

    int serializedSize() {
        int used = 0;
        for (long c : counts) {
            if (c > 0) {
                used++;
            }
        }
        return 4 + used * 10;
    }

    static LatencyHistogram readFrom(ByteBuffer in) {
        LatencyHistogram h = new LatencyHistogram();
        int used = in.getInt();
        for (int i = 0; i < used; i++) {
            int b = in.getShort();
            long c = in.getLong();
            if (b >= h.counts.length) {
                h.counts = Arrays.copyOf(h.counts, b + 1);
            }
            h.counts[b] += c;
            h.total += c;
        }
        return h;
    }
}
