package dev.hardmine.stream;

import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.avro.Triplet;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The running aggregate of one job's mined batches in one stats window, turned into a
 * {@link MiningStats} record. Staleness is the step difference between an anchor's batch and
 * the positives and negatives chosen for it; latency is {@code produced_at → mined_at}.
 *
 * <p>The gaps {@code d_an − d_ap} of the emitted triplets go into a histogram whose bins are
 * measured in units of the margin of the window's first batch: {@value #GAP_BINS} bins of a
 * quarter unit from −4 to +4 units, plus one open bin on each side. Hard triplets fall left of 0,
 * semi-hard ones between 0 and the margin, easy ones right of it.
 */
public final class StatsAccumulator {
    /** Inner bins of the gap histogram. */
    public static final int GAP_BINS = 32;
    private static final double UNIT_WITHOUT_MARGIN = 0.1;
    static final byte FORMAT_VERSION = 1;

    long batches;
    long embeddings;
    long triplets;
    long validAnchors;
    long hard;
    long semiHard;
    long easy;
    double sumLossBatchHard;
    double sumLossSemiHard;
    double sumLossWeighted;
    double sumDAp;
    double sumDAn;
    long memorySize;
    long memoryIdentities;
    double sumStaleness;
    long stalenessCount;
    long stalenessMax;
    double sumMiningMs;
    double latencyMax;
    LatencyHistogram latency = new LatencyHistogram();
    double margin;
    double gapUnit;
    long[] gapCounts = new long[GAP_BINS + 2];

    /** Adds one mined batch. */
    public StatsAccumulator add(MinedBatch m) {
        BatchStats s = m.getStats();
        batches++;
        embeddings += s.getAnchors();
        triplets += m.getTriplets().size();
        validAnchors += s.getValidAnchors();
        hard += s.getHard();
        semiHard += s.getSemiHard();
        easy += s.getEasy();
        sumLossBatchHard += s.getLossBatchHard();
        sumLossSemiHard += s.getLossSemiHard();
        sumLossWeighted += s.getLossWeighted();
        sumDAp += s.getMeanDAp() * m.getTriplets().size();
        sumDAn += s.getMeanDAn() * m.getTriplets().size();
        memorySize = s.getMemorySize();
        memoryIdentities = s.getMemoryIdentities();
        margin = m.getMargin();
        if (gapUnit == 0) {
            gapUnit = margin > 0 ? margin : UNIT_WITHOUT_MARGIN;
        }
        for (Triplet t : m.getTriplets()) {
            gapCounts[gapBin(t.getDAn() - t.getDAp())]++;
            long p = Math.abs(m.getStep() - t.getPositiveStep());
            long n = Math.abs(m.getStep() - t.getNegativeStep());
            sumStaleness += p + n;
            stalenessCount += 2;
            stalenessMax = Math.max(stalenessMax, Math.max(p, n));
        }
        sumMiningMs += s.getMiningMs();
        double latencyMs = m.getMinedAt().toEpochMilli() - m.getProducedAt().toEpochMilli();
        latency.record(latencyMs);
        latencyMax = Math.max(latencyMax, latencyMs);
        return this;
    }

    private int gapBin(double gap) {
        double position = (gap - gapLow()) / gapWidth();
        if (!(position >= 0)) {
            return 0;
        }
        return position >= GAP_BINS ? GAP_BINS + 1 : 1 + (int) position;
    }

    private double gapLow() {
        return -4 * gapUnit;
    }

    private double gapWidth() {
        return gapUnit / 4;
    }

    public MiningStats toMiningStats(String jobId, long windowStart, long windowEnd) {
        return MiningStats.newBuilder()
                .setJobId(jobId)
                .setWindowStart(Instant.ofEpochMilli(windowStart))
                .setWindowEnd(Instant.ofEpochMilli(windowEnd))
                .setBatches(batches)
                .setEmbeddings(embeddings)
                .setTriplets(triplets)
                .setValidAnchors(validAnchors)
                .setHard(hard)
                .setSemiHard(semiHard)
                .setEasy(easy)
                .setMeanLossBatchHard(mean(sumLossBatchHard, batches))
                .setMeanLossSemiHard(mean(sumLossSemiHard, batches))
                .setMeanLossWeighted(mean(sumLossWeighted, batches))
                .setMeanDAp(mean(sumDAp, triplets))
                .setMeanDAn(mean(sumDAn, triplets))
                .setMemorySize(memorySize)
                .setMemoryIdentities(memoryIdentities)
                .setStalenessMean(mean(sumStaleness, stalenessCount))
                .setStalenessMax(stalenessMax)
                .setLatencyP50Ms(latency.percentile(0.50))
                .setLatencyP99Ms(latency.percentile(0.99))
                .setLatencyMaxMs(latencyMax)
                .setMiningMsMean(mean(sumMiningMs, batches))
                .setMargin(margin)
                .setGapLow(gapLow())
                .setGapWidth(gapWidth())
                .setGapCounts(triplets == 0 ? List.of() : Arrays.stream(gapCounts).boxed().toList())
                .build();
    }

    private static double mean(double sum, long n) {
        return n == 0 ? 0.0 : sum / n;
    }

    /**
     * A compact binary serde for the window store and its changelog. Format version
     * {@value #FORMAT_VERSION}: byte 1, then every field in declaration order (big-endian longs and
     * doubles, the latency histogram as {@link LatencyHistogram} writes it, the gap histogram's
     * {@code GAP_BINS + 2} counts). Values written before the version byte existed
     * ({@link StateFormat#UNVERSIONED}) have the same fields without it, and those written before
     * the gap histogram existed end after the latency histogram: their gap histogram is left empty.
     */
    public static Serde<StatsAccumulator> serde() {
        Serializer<StatsAccumulator> ser = (topic, a) -> {
            if (a == null) {
                return null;
            }
            ByteBuffer out = ByteBuffer.allocate(1 + 8 * (21 + a.gapCounts.length) + a.latency.serializedSize());
            out.put(FORMAT_VERSION)
                    .putLong(a.batches).putLong(a.embeddings).putLong(a.triplets).putLong(a.validAnchors)
                    .putLong(a.hard).putLong(a.semiHard).putLong(a.easy)
                    .putDouble(a.sumLossBatchHard).putDouble(a.sumLossSemiHard).putDouble(a.sumLossWeighted)
                    .putDouble(a.sumDAp).putDouble(a.sumDAn).putLong(a.memorySize).putLong(a.memoryIdentities)
                    .putDouble(a.sumStaleness).putLong(a.stalenessCount).putLong(a.stalenessMax)
                    .putDouble(a.sumMiningMs).putDouble(a.latencyMax);
            a.latency.writeTo(out);
            out.putDouble(a.margin).putDouble(a.gapUnit);
            for (long c : a.gapCounts) {
                out.putLong(c);
            }
            return out.array();
        };
        Deserializer<StatsAccumulator> de = (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            ByteBuffer in = ByteBuffer.wrap(bytes);
            byte version = StateFormat.read(in, MiningTopology.STATS_STORE, StateFormat.UNVERSIONED, FORMAT_VERSION);
            StatsAccumulator a = new StatsAccumulator();
            a.batches = in.getLong();
            a.embeddings = in.getLong();
            a.triplets = in.getLong();
            a.validAnchors = in.getLong();
            a.hard = in.getLong();
            a.semiHard = in.getLong();
            a.easy = in.getLong();
            a.sumLossBatchHard = in.getDouble();
            a.sumLossSemiHard = in.getDouble();
            a.sumLossWeighted = in.getDouble();
            a.sumDAp = in.getDouble();
            a.sumDAn = in.getDouble();
            a.memorySize = in.getLong();
            a.memoryIdentities = in.getLong();
            a.sumStaleness = in.getDouble();
            a.stalenessCount = in.getLong();
            a.stalenessMax = in.getLong();
            a.sumMiningMs = in.getDouble();
            a.latencyMax = in.getDouble();
            a.latency = LatencyHistogram.readFrom(in);
            // An unversioned value may end here: written before the gap histogram, which stays empty.
            if (version != StateFormat.UNVERSIONED || in.hasRemaining()) {
                a.margin = in.getDouble();
                a.gapUnit = in.getDouble();
                for (int i = 0; i < a.gapCounts.length; i++) {
                    a.gapCounts[i] = in.getLong();
                }
            }
            return a;
        };
        return Serdes.serdeFrom(ser, de);
    }
}
