package dev.hardmine.stream;

import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MemorySample;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.Triplet;
import dev.hardmine.mining.BatchStatistics;
import dev.hardmine.mining.Embeddings;
import dev.hardmine.mining.MemoryBank;
import dev.hardmine.mining.MinedTriplet;
import dev.hardmine.mining.MiningResult;
import dev.hardmine.mining.MiningSettings;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Builds the MinedBatch wire record from a mining result. */
public final class MinedBatches {
    private MinedBatches() {
    }

    public static MinedBatch of(EmbeddingBatch source, MiningResult result, MiningSettings settings, Instant minedAt) {
        List<Triplet> triplets = new ArrayList<>(result.triplets().size());
        for (MinedTriplet t : result.triplets()) {
            triplets.add(new Triplet(t.anchorId(), t.positiveId(), t.negativeId(), t.anchorLabel(),
                    t.negativeLabel(), t.dAp(), t.dAn(), t.positiveStep(), t.negativeStep()));
        }
        BatchStatistics s = result.stats();
        BatchStats stats = new BatchStats(s.anchors(), s.validAnchors(), s.hard(), s.semiHard(), s.easy(),
                s.lossBatchHard(), s.lossSemiHard(), s.lossWeighted(), s.meanDAp(), s.meanDAn(),
                s.memorySize(), s.memoryIdentities(), s.miningMs());
        return MinedBatch.newBuilder()
                .setJobId(source.getJobId())
                .setBatchId(source.getBatchId())
                .setWorkerId(source.getWorkerId())
                .setStep(source.getStep())
                .setStrategy(settings.strategy().id())
                .setMargin(settings.margin())
                .setDistance(settings.distance().id())
                .setMinedAt(Instant.ofEpochMilli(minedAt.toEpochMilli()))
                .setTriplets(triplets)
                .setStats(stats)
                .setProducedAt(source.getProducedAt())
                .setMemorySamples(memorySamples(result.memorySamples()))
                .build();
    }

    /**
     * What the stats window needs of a mined batch, for its repartition topic: the same record with
     * the triplets' ids and labels emptied and without memory samples — a few bytes per triplet
     * (distances and steps) instead of the batch's full output, written a second time.
     */
    public static MinedBatch forStats(MinedBatch m) {
        List<Triplet> thin = new ArrayList<>(m.getTriplets().size());
        for (Triplet t : m.getTriplets()) {
            thin.add(new Triplet("", "", "", "", "", t.getDAp(), t.getDAn(), t.getPositiveStep(),
                    t.getNegativeStep()));
        }
        return MinedBatch.newBuilder(m).setTriplets(thin).setMemorySamples(List.of()).build();
    }

    /** Memory entries as MemorySample records, embeddings as little-endian float32 like EmbeddingBatch's. */
    static List<MemorySample> memorySamples(List<MemoryBank.Entry> entries) {
        if (entries.isEmpty()) {
            return List.of();
        }
        List<MemorySample> out = new ArrayList<>(entries.size());
        for (MemoryBank.Entry e : entries) {
            float[] values = e.embedding();
            out.add(new MemorySample(e.sampleId(), e.label(), e.step(),
                    Embeddings.encodeLittleEndian(values, 0, values.length)));
        }
        return out;
    }
}
