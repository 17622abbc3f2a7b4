package dev.hardmine.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.MemorySample;
import dev.hardmine.avro.MinedBatch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemorySampleCacheTest {

    /** A sample "id" of label "L" + id at {@code step}, embedding (v, -v) as little-endian float32. */
    private static MemorySample sample(String id, long step, float v) {
        ByteBuffer bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).putFloat(-v).flip();
        return new MemorySample(id, "L" + id, step, bytes);
    }

    private static MinedBatch mined(MemorySample... samples) {
        BatchStats stats = new BatchStats(0L, 0L, 0L, 0L, 0L, 0.0, 0.0, 0.0, 0.0, 0.0, 0L, 0L, 0.0);
        return MinedBatch.newBuilder().setJobId("j").setBatchId("b").setWorkerId("w").setStep(0)
                .setStrategy("batch-hard").setMargin(0.2f).setDistance("euclidean").setMinedAt(Instant.EPOCH)
                .setTriplets(new ArrayList<>()).setStats(stats).setMemorySamples(List.of(samples)).build();
    }

    @Test
    void aNewerStepReplacesASampleAndAnOlderOrEqualOneDoesNot() {
        MemorySampleCache cache = new MemorySampleCache(10, 0);
        assertThat(cache.add(mined(sample("x", 5, 1f), sample("y", 5, 2f)))).isEqualTo(2);
        assertThat(cache.add(mined(sample("x", 7, 3f), sample("y", 5, 9f), sample("y", 4, 9f)))).isEqualTo(1);

        MemorySampleCache.Snapshot s = cache.snapshot(7);
        assertThat(s.sampleIds()).containsExactly("y", "x"); // oldest step first
        assertThat(s.labels()).containsExactly("Ly", "Lx");
        assertThat(s.steps()).containsExactly(5, 7);
        assertThat(s.embeddings()).containsExactly(2f, -2f, 3f, -3f);
        assertThat(s.dim()).isEqualTo(2);
    }

    @Test
    void overCapacityTheOldestStepGoesFirstAndAmongEqualStepsTheEarliestArrival() {
        MemorySampleCache cache = new MemorySampleCache(3, 0);
        cache.add(mined(sample("a", 2, 0f), sample("b", 1, 0f), sample("c", 2, 0f)));
        cache.add(mined(sample("d", 3, 0f))); // evicts b (step 1)
        cache.add(mined(sample("e", 3, 0f))); // evicts a (step 2, arrived before c)
        assertThat(cache.snapshot(3).sampleIds()).containsExactly("c", "d", "e");
        assertThat(cache.size()).isEqualTo(3);
    }

    @Test
    void aSnapshotLeavesOutEntriesMoreThanMaxStalenessBehindItsStep() {
        MemorySampleCache cache = new MemorySampleCache(10, 5);
        cache.add(mined(sample("old", 4, 0f), sample("edge", 5, 0f), sample("new", 9, 0f)));
        // At step 10: 10 - 4 = 6 > 5 is left out, 10 - 5 = 5 is kept.
        assertThat(cache.snapshot(10).sampleIds()).containsExactly("edge", "new");
        assertThat(cache.size()).isEqualTo(3);
    }

    @Test
    void anEmbeddingOfAnotherDimensionIsRejectedNamingTheSample() {
        MemorySampleCache cache = new MemorySampleCache(10, 0);
        cache.add(mined(sample("x", 1, 1f)));
        MemorySample wide = new MemorySample("z", "Lz", 2L, ByteBuffer.allocate(12));
        assertThatThrownBy(() -> cache.add(mined(wide))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("z").hasMessageContaining("12 embedding bytes, expected 8");
    }
}
