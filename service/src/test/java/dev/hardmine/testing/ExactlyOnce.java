package dev.hardmine.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.replay.BatchSource;
import dev.hardmine.replay.MinedBatchSink;
import dev.hardmine.replay.Replayer;
import dev.hardmine.stream.InputLimits;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What exactly-once means for a run of the service that was disturbed (killed, its broker bounced):
 * one MinedBatch per input batch under {@code read_committed}, identical but for the wall-clock
 * {@code mined_at} and {@code mining_ms} to what {@link Replayer} mines offline from the same input
 * with the same settings — so no batch was lost or mined twice, and no memory entry was lost or
 * kept too long.
 */
public final class ExactlyOnce {
    private ExactlyOnce() {
    }

    /** {@code count} synthetic batches (dimension 16) dealt round-robin to {@code jobs} jobs, in publishing order. */
    public static List<EmbeddingBatch> batchesOfJobs(long seed, int count, int jobs) {
        List<EmbeddingBatch> out = new ArrayList<>();
        int b = 0;
        for (EmbeddingBatch batch : SyntheticLog.batches(seed, count, 6, 3, 16)) {
            out.add(EmbeddingBatch.newBuilder(batch).setJobId("job-" + (b++ % jobs)).build());
        }
        return out;
    }

    /** {@code job_id/batch_id}: a batch's identity across jobs. */
    public static String key(MinedBatch m) {
        return m.getJobId() + "/" + m.getBatchId();
    }

    /** {@link #key(MinedBatch)} of the batch mined from {@code b}. */
    public static String key(EmbeddingBatch b) {
        return b.getJobId() + "/" + b.getBatchId();
    }

    /**
     * Asserts that {@code mined} (every record read, by {@link #key}) holds each batch of {@code input}
     * exactly once, as the replay of {@code input} with the default mining settings, {@code memory}
     * and {@code memoryMaxBytes} mines it.
     */
    public static void assertMinedOnceAsReplayed(Map<String, List<MinedBatch>> mined, List<EmbeddingBatch> input,
                                                 MemoryLimits memory, long memoryMaxBytes) throws IOException {
        // Messages name batches, never print them: thousands of MinedBatches do not fit a message.
        assertThat(new TreeMap<>(mined).keySet()).as("mined batches").hasSize(input.size());
        mined.forEach((key, copies) -> assertThat(copies.size()).as("copies of batch %s", key).isOne());
        for (Map.Entry<String, MinedBatch> e : replay(input, memory, memoryMaxBytes).entrySet()) {
            assertThat(mined.containsKey(e.getKey())).as("batch %s mined", e.getKey()).isTrue();
            assertThat(withoutWallClock(mined.get(e.getKey()).get(0)))
                    .as("batch %s as the replay mines it", e.getKey())
                    .isEqualTo(withoutWallClock(e.getValue()));
        }
    }

    private static Map<String, MinedBatch> replay(List<EmbeddingBatch> input, MemoryLimits memory, long memoryMaxBytes)
            throws IOException {
        Map<String, MinedBatch> out = new TreeMap<>();
        Iterator<EmbeddingBatch> batches = input.iterator();
        BatchSource source = new BatchSource() {
            private int position;

            @Override
            public EmbeddingBatch next() {
                position++;
                return batches.hasNext() ? batches.next() : null;
            }

            @Override
            public String position() {
                return "batch " + position;
            }

            @Override
            public void close() {
            }
        };
        MinedBatchSink sink = new MinedBatchSink() {
            @Override
            public void write(MinedBatch batch) {
                out.put(key(batch), batch);
            }

            @Override
            public void commit() {
            }

            @Override
            public void close() {
            }
        };
        try (Replayer replayer = new Replayer(MiningSettings.defaults(), memory, InputLimits.defaults(), memoryMaxBytes,
                Clock.systemUTC())) {
            replayer.replay(source, sink);
        }
        return out;
    }

    private static MinedBatch withoutWallClock(MinedBatch m) {
        return MinedBatch.newBuilder(m).setMinedAt(Instant.EPOCH)
                .setStats(BatchStats.newBuilder(m.getStats()).setMiningMs(0).build()).build();
    }
}
