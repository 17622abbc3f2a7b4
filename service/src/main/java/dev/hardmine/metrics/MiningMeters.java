package dev.hardmine.metrics;

import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.Triplet;
import dev.hardmine.stream.DeadLetters;
import dev.hardmine.stream.MiningObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * hardmine's own meters, recorded where the data is: per mined batch (from the mining processor)
 * and per dead letter. The dead-letter counters of every known reason exist from the start, at 0.
 * Counters, timers and the staleness summary of a job live as long as the registry; its gauges
 * (latest losses and distances, memory) exist while this instance holds at least one of the job's
 * memories, and go when the last one is released, so that a job whose task moved to another
 * instance leaves no frozen value behind.
 */
final class MiningMeters implements MiningObserver {
    private final MeterRegistry registry;
    private final Map<String, JobMeters> jobs = new ConcurrentHashMap<>();

    MiningMeters(MeterRegistry registry) {
        this.registry = registry;
        // Every reason from the start, at 0: a healthy service's dashboards show 0, not "no data".
        DeadLetters.REASONS.forEach(this::deadLetters);
    }

    @Override
    public void batchMined(String memoryKey, MinedBatch mined, long memoryBytes) {
        BatchStats s = mined.getStats();
        JobMeters job = jobs.compute(mined.getJobId(), (id, j) -> {
            JobMeters meters = j != null ? j : new JobMeters(registry, id);
            meters.memory.put(memoryKey, new long[] {s.getMemorySize(), s.getMemoryIdentities(), memoryBytes});
            return meters;
        });
        job.record(mined);
    }

    @Override
    public void memoryReleased(String memoryKey, String jobId) {
        jobs.computeIfPresent(jobId, (id, j) -> {
            j.memory.remove(memoryKey);
            if (!j.memory.isEmpty()) {
                return j;
            }
            j.gauges.forEach(registry::remove);
            return null;
        });
    }

    @Override
    public void deadLetter(String reason) {
        deadLetters(reason).increment();
    }

    private Counter deadLetters(String reason) {
        return Counter.builder(HardmineMetrics.DEAD_LETTERS).tag("reason", reason)
                .description("Records sent to the dead-letter topic, by reason").register(registry);
    }

    /** The meters of one job. */
    private static final class JobMeters {
        final Counter batches;
        final Counter embeddings;
        final Counter triplets;
        final Counter hard;
        final Counter semiHard;
        final Counter easy;
        final Timer mining;
        final Timer latency;
        final DistributionSummary staleness;
        final List<Meter> gauges = new ArrayList<>();
        /** Size, identities and bytes of each of the job's memories held here (one, or one per shard). */
        final Map<String, long[]> memory = new ConcurrentHashMap<>();
        volatile double lossBatchHard;
        volatile double lossSemiHard;
        volatile double lossWeighted;
        volatile double meanDAp;
        volatile double meanDAn;

        JobMeters(MeterRegistry registry, String job) {
            batches = counter(registry, HardmineMetrics.BATCHES, job, "Batches mined");
            embeddings = counter(registry, HardmineMetrics.EMBEDDINGS, job, "Embeddings mined (anchors)");
            triplets = counter(registry, HardmineMetrics.TRIPLETS, job, "Triplets emitted to the mined topic");
            hard = hardness(registry, job, "hard");
            semiHard = hardness(registry, job, "semi_hard");
            easy = hardness(registry, job, "easy");
            mining = Timer.builder(HardmineMetrics.MINING).tag("job", job)
                    .description("Time spent mining a batch (BatchStats.mining_ms)")
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(30))
                    .register(registry);
            latency = Timer.builder(HardmineMetrics.LATENCY).tag("job", job)
                    .description("From a batch's produced_at to its mined_at")
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(5))
                    .register(registry);
            staleness = DistributionSummary.builder(HardmineMetrics.STALENESS).tag("job", job).baseUnit("steps")
                    .description("Steps between an anchor's batch and each positive and negative chosen for it")
                    .publishPercentileHistogram()
                    .minimumExpectedValue(1.0).maximumExpectedValue(100_000.0)
                    .register(registry);
            loss(registry, job, "batch_hard", j -> j.lossBatchHard);
            loss(registry, job, "semi_hard", j -> j.lossSemiHard);
            loss(registry, job, "weighted", j -> j.lossWeighted);
            gauges.add(Gauge.builder(HardmineMetrics.DISTANCE_MEAN, this, j -> j.meanDAp).tags("job", job, "pair", "ap")
                    .description("Mean d_ap of the triplets of the latest batch that emitted any").register(registry));
            gauges.add(Gauge.builder(HardmineMetrics.DISTANCE_MEAN, this, j -> j.meanDAn).tags("job", job, "pair", "an")
                    .description("Mean d_an of the triplets of the latest batch that emitted any").register(registry));
            gauges.add(Gauge.builder(HardmineMetrics.MEMORY_SIZE, this, j -> j.sum(0)).tag("job", job)
                    .description("Embeddings in the job's memory held by this instance").register(registry));
            gauges.add(Gauge.builder(HardmineMetrics.MEMORY_IDENTITIES, this, j -> j.sum(1)).tag("job", job)
                    .description("Identities in the job's memory held by this instance").register(registry));
            gauges.add(Gauge.builder(HardmineMetrics.MEMORY_BYTES, this, j -> j.sum(2)).tag("job", job)
                    .description("Bytes the job's memory held by this instance is charged against memory.max-bytes "
                            + "(per memory: per shard with identity sharding)").register(registry));
        }

        private static Counter counter(MeterRegistry registry, String name, String job, String description) {
            return Counter.builder(name).tag("job", job).description(description).register(registry);
        }

        private static Counter hardness(MeterRegistry registry, String job, String hardness) {
            return Counter.builder(HardmineMetrics.TRIPLETS_COUNTED).tags("job", job, "hardness", hardness)
                    .description("Triplets of valid anchors by class, counted over all of them (BatchStats)")
                    .register(registry);
        }

        private void loss(MeterRegistry registry, String job, String loss,
                          java.util.function.ToDoubleFunction<JobMeters> value) {
            gauges.add(Gauge.builder(HardmineMetrics.LOSS, this, value).tags("job", job, "loss", loss)
                    .description("The latest batch's loss").register(registry));
        }

        private double sum(int field) {
            long total = 0;
            for (long[] m : memory.values()) {
                total += m[field];
            }
            return total;
        }

        void record(MinedBatch mined) {
            BatchStats s = mined.getStats();
            List<Triplet> emitted = mined.getTriplets();
            batches.increment();
            embeddings.increment(s.getAnchors());
            triplets.increment(emitted.size());
            hard.increment(s.getHard());
            semiHard.increment(s.getSemiHard());
            easy.increment(s.getEasy());
            lossBatchHard = s.getLossBatchHard();
            lossSemiHard = s.getLossSemiHard();
            lossWeighted = s.getLossWeighted();
            if (!emitted.isEmpty()) {
                meanDAp = s.getMeanDAp();
                meanDAn = s.getMeanDAn();
            }
            mining.record((long) (s.getMiningMs() * 1_000_000), TimeUnit.NANOSECONDS);
            long latencyMs = mined.getMinedAt().toEpochMilli() - mined.getProducedAt().toEpochMilli();
            latency.record(Math.max(0, latencyMs), TimeUnit.MILLISECONDS);
            long step = mined.getStep();
            for (Triplet t : emitted) {
                staleness.record(Math.abs(step - t.getPositiveStep()));
                staleness.record(Math.abs(step - t.getNegativeStep()));
            }
        }
    }
}
