package dev.hardmine.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.Triplet;
import dev.hardmine.stream.DeadLetters;
import dev.hardmine.stream.MiningObserver;
import dev.hardmine.testing.PrometheusText;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** hardmine's own meters, under the Prometheus names the dashboards query, from batches made by hand. */
class MiningMetersTest {
    private final HardmineMetrics metrics = new HardmineMetrics();
    private final MiningObserver observer = metrics.observer();

    @AfterEach
    void close() {
        metrics.close();
    }

    private PrometheusText scrape() {
        return PrometheusText.parse(metrics.scrape());
    }

    /**
     * The worked example of the README as a mined batch of job {@code job} at step 10: 4 anchors,
     * 5 hard, 2 semi-hard, 1 easy, memory of 4 embeddings and 2 identities; two triplets whose
     * positives and negatives come from steps (10, 7) and (9, 10); produced 250 ms before it was mined.
     */
    private static MinedBatch batch(String job, long memorySize, long identities) {
        BatchStats stats = new BatchStats(4L, 4L, 5L, 2L, 1L, 2.5, 1.0, 0.75, 2.0, 1.5, memorySize, identities, 12.5);
        return MinedBatch.newBuilder().setJobId(job).setBatchId("b").setWorkerId("w0").setStep(10)
                .setStrategy("batch-hard").setMargin(1f).setDistance("euclidean")
                .setMinedAt(Instant.ofEpochMilli(1_250)).setProducedAt(Instant.ofEpochMilli(1_000))
                .setTriplets(List.of(
                        new Triplet("x1", "x2", "y1", "A", "B", 2f, 1f, 10L, 7L),
                        new Triplet("y2", "y1", "x2", "B", "A", 4f, 3f, 9L, 10L)))
                .setStats(stats).build();
    }

    @Test
    void aMinedBatchCountsItsBatchEmbeddingsTripletsAndHardnessClassesPerJob() {
        observer.batchMined("job", batch("job", 4, 2), 1000);
        observer.batchMined("job", batch("job", 4, 2), 1000);
        PrometheusText p = scrape();
        assertThat(p.value("hardmine_batches_total", "job", "job")).isEqualTo(2.0);
        assertThat(p.value("hardmine_embeddings_total", "job", "job")).isEqualTo(8.0);
        assertThat(p.value("hardmine_triplets_total", "job", "job")).isEqualTo(4.0);
        assertThat(p.value("hardmine_triplets_counted_total", "job", "job", "hardness", "hard")).isEqualTo(10.0);
        assertThat(p.value("hardmine_triplets_counted_total", "job", "job", "hardness", "semi_hard")).isEqualTo(4.0);
        assertThat(p.value("hardmine_triplets_counted_total", "job", "job", "hardness", "easy")).isEqualTo(2.0);
        assertThat(p.type("hardmine_batches_total")).isEqualTo("counter");
    }

    @Test
    void lossesDistancesAndMemoryAreTheLatestBatchs() {
        observer.batchMined("job", batch("job", 4, 2), 1000);
        PrometheusText p = scrape();
        assertThat(p.value("hardmine_loss", "job", "job", "loss", "batch_hard")).isEqualTo(2.5);
        assertThat(p.value("hardmine_loss", "job", "job", "loss", "semi_hard")).isEqualTo(1.0);
        assertThat(p.value("hardmine_loss", "job", "job", "loss", "weighted")).isEqualTo(0.75);
        assertThat(p.value("hardmine_distance_mean", "job", "job", "pair", "ap")).isEqualTo(2.0);
        assertThat(p.value("hardmine_distance_mean", "job", "job", "pair", "an")).isEqualTo(1.5);
        assertThat(p.value("hardmine_memory_size", "job", "job")).isEqualTo(4.0);
        assertThat(p.value("hardmine_memory_identities", "job", "job")).isEqualTo(2.0);
        assertThat(p.value("hardmine_memory_bytes", "job", "job")).isEqualTo(1000.0);
        assertThat(p.type("hardmine_loss")).isEqualTo("gauge");
    }

    @Test
    void miningTimeLatencyAndStalenessAreHistograms() {
        observer.batchMined("job", batch("job", 4, 2), 1000);
        PrometheusText p = scrape();
        assertThat(p.type("hardmine_mining_seconds")).isEqualTo("histogram");
        assertThat(p.value("hardmine_mining_seconds_count", "job", "job")).isEqualTo(1.0);
        assertThat(p.value("hardmine_mining_seconds_sum", "job", "job")).isCloseTo(0.0125, within(1e-9));
        assertThat(p.value("hardmine_mining_seconds_bucket", "job", "job", "le", "+Inf")).isEqualTo(1.0);
        // produced_at 1000 ms, mined_at 1250 ms
        assertThat(p.value("hardmine_latency_seconds_count", "job", "job")).isEqualTo(1.0);
        assertThat(p.value("hardmine_latency_seconds_sum", "job", "job")).isCloseTo(0.25, within(1e-9));
        assertThat(p.samples("hardmine_latency_seconds_bucket", "job", "job")).hasSizeGreaterThan(10);
        // Step 10 against positives/negatives of steps (10, 7) and (9, 10): staleness 0, 3, 1, 0.
        assertThat(p.type("hardmine_staleness_steps")).isEqualTo("histogram");
        assertThat(p.value("hardmine_staleness_steps_count", "job", "job")).isEqualTo(4.0);
        assertThat(p.value("hardmine_staleness_steps_sum", "job", "job")).isEqualTo(4.0);
        assertThat(p.value("hardmine_staleness_steps_max", "job", "job")).isEqualTo(3.0);
    }

    @Test
    void aShardedJobsMemoryIsTheSumOfItsShardsAndItsGaugesGoWithTheLastShardReleased() {
        observer.batchMined("job#0", batch("job", 100, 10), 150_000);
        observer.batchMined("job#1", batch("job", 40, 3), 60_000);
        assertThat(scrape().value("hardmine_memory_size", "job", "job")).isEqualTo(140.0);
        assertThat(scrape().value("hardmine_memory_identities", "job", "job")).isEqualTo(13.0);
        assertThat(scrape().value("hardmine_memory_bytes", "job", "job")).isEqualTo(210_000.0);

        observer.memoryReleased("job#0", "job");
        assertThat(scrape().value("hardmine_memory_size", "job", "job")).isEqualTo(40.0);
        assertThat(scrape().value("hardmine_memory_bytes", "job", "job")).isEqualTo(60_000.0);

        observer.memoryReleased("job#1", "job");
        PrometheusText p = scrape();
        assertThat(p.samples("hardmine_memory_size")).isEmpty();
        assertThat(p.samples("hardmine_memory_bytes")).isEmpty();
        assertThat(p.samples("hardmine_loss")).isEmpty();
        assertThat(p.samples("hardmine_distance_mean")).isEmpty();
        // Counters keep counting from where they were when the job comes back.
        assertThat(p.value("hardmine_batches_total", "job", "job")).isEqualTo(2.0);
        observer.batchMined("job", batch("job", 7, 2), 1000);
        assertThat(scrape().value("hardmine_batches_total", "job", "job")).isEqualTo(3.0);
        assertThat(scrape().value("hardmine_memory_size", "job", "job")).isEqualTo(7.0);
    }

    @Test
    void aBatchWithoutTripletsLeavesTheMeanDistancesOfTheLastOneThatHadSome() {
        observer.batchMined("job", batch("job", 4, 2), 1000);
        MinedBatch empty = MinedBatch.newBuilder(batch("job", 4, 2)).setTriplets(List.of())
                .setStats(new BatchStats(4L, 0L, 0L, 0L, 0L, 0.0, 0.0, 0.0, 0.0, 0.0, 4L, 2L, 1.0)).build();
        observer.batchMined("job", empty, 1000);
        PrometheusText p = scrape();
        assertThat(p.value("hardmine_distance_mean", "job", "job", "pair", "ap")).isEqualTo(2.0);
        assertThat(p.value("hardmine_loss", "job", "job", "loss", "batch_hard")).isEqualTo(0.0);
    }

    @Test
    void deadLettersAreCountedByReason() {
        observer.deadLetter("truncated");
        observer.deadLetter("truncated");
        observer.deadLetter("dim-mismatch");
        PrometheusText p = scrape();
        assertThat(p.value("hardmine_dead_letters_total", "reason", "truncated")).isEqualTo(2.0);
        assertThat(p.value("hardmine_dead_letters_total", "reason", "dim-mismatch")).isEqualTo(1.0);
    }

    @Test
    void aFreshServiceListsEveryDeadLetterReasonAtZero() {
        PrometheusText p = scrape();
        assertThat(p.type("hardmine_dead_letters_total")).isEqualTo("counter");
        assertThat(DeadLetters.REASONS).contains("truncated", "dim-mismatch", "malformed", "processing-error")
                .allSatisfy(reason -> assertThat(p.value("hardmine_dead_letters_total", "reason", reason))
                        .as(reason).isEqualTo(0.0));
        assertThat(p.samples("hardmine_dead_letters_total")).hasSameSizeAs(DeadLetters.REASONS);
    }

    @Test
    void theJvmIsMeasured() {
        PrometheusText p = scrape();
        assertThat(p.samples("jvm_memory_used_bytes", "area", "heap")).isNotEmpty()
                .allSatisfy(s -> assertThat(s.value()).isGreaterThanOrEqualTo(0));
        assertThat(p.value("jvm_threads_live_threads")).isPositive();
        assertThat(p.value("jvm_classes_loaded_classes")).isPositive();
        assertThat(p.value("system_cpu_count")).isPositive();
        assertThat(p.names()).contains("jvm_gc_memory_allocated_bytes_total", "process_uptime_seconds");
    }
}
