package dev.hardmine.client;

import dev.hardmine.avro.MemorySample;
import dev.hardmine.avro.MinedBatch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A trainer's memory built from the memory samples hardmine sends back with its mined batches
 * ({@code MinedBatch.memory_samples}, when the job asks for them with
 * {@code mining.memory-negatives} / {@code mining.memory-positives}): the hardest negatives and
 * positives of the job's memory, shared by all its workers. A trainer adds its {@link #snapshot}
 * to the loss of its next batches as constant extra candidates, as cross-batch memory (XBM) does
 * with a memory of its own — no re-embedding, no gradient through them.
 *
 * <p>Rules: one entry per sample id, a newer step replacing an older one (an older or equal step
 * never replaces); over {@code capacity}, the entries with the oldest step go first (among equal
 * steps, the one that arrived first); a snapshot leaves out the entries more than
 * {@code maxStalenessSteps} behind the step it is taken at.
 *
 * <p>Thread-safe: a callback thread may add while the training thread takes snapshots.
 */
public final class MemorySampleCache {
    private final int capacity;
    private final long maxStalenessSteps;
    private final Map<String, Entry> byId = new HashMap<>();
    /** Eviction order: (step, arrival) ascending. */
    private final TreeMap<Order, Entry> byAge = new TreeMap<>();
    private long arrivals;
    private int dim = -1;

    private record Order(long step, long arrival) implements Comparable<Order> {
        @Override
        public int compareTo(Order o) {
            int c = Long.compare(step, o.step);
            return c != 0 ? c : Long.compare(arrival, o.arrival);
        }
    }

    private record Entry(String sampleId, String label, Order order, float[] embedding) {
    }

    /**
     * @param capacity          entries kept at most (&gt; 0)
     * @param maxStalenessSteps a snapshot leaves out entries more than this many steps old; 0 = none left out
     */
    public MemorySampleCache(int capacity, long maxStalenessSteps) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be > 0, got " + capacity);
        }
        if (maxStalenessSteps < 0) {
            throw new IllegalArgumentException("maxStalenessSteps must be >= 0, got " + maxStalenessSteps);
        }
        this.capacity = capacity;
        this.maxStalenessSteps = maxStalenessSteps;
    }

    /**
     * Adds a mined batch's memory samples.
     *
     * @return how many entered the cache (new sample ids, or newer steps of known ones)
     * @throws IllegalArgumentException when an embedding's length is not a multiple of 4 or differs
     *                                  from the dimension of the samples before it
     */
    public synchronized int add(MinedBatch batch) {
        int added = 0;
        for (MemorySample s : batch.getMemorySamples()) {
            ByteBuffer bytes = s.getEmbedding().duplicate().order(ByteOrder.LITTLE_ENDIAN);
            if (bytes.remaining() % 4 != 0 || (dim >= 0 && bytes.remaining() / 4 != dim)) {
                throw new IllegalArgumentException("memory sample " + s.getSampleId() + " has " + bytes.remaining()
                        + " embedding bytes, expected " + (dim >= 0 ? 4 * dim + "" : "a multiple of 4"));
            }
            Entry old = byId.get(s.getSampleId());
            if (old != null && old.order.step >= s.getStep()) {
                continue;
            }
            float[] embedding = new float[bytes.remaining() / 4];
            bytes.asFloatBuffer().get(embedding);
            dim = embedding.length;
            if (old != null) {
                byAge.remove(old.order);
            }
            Entry e = new Entry(s.getSampleId(), s.getLabel(), new Order(s.getStep(), arrivals++), embedding);
            byId.put(e.sampleId, e);
            byAge.put(e.order, e);
            added++;
        }
        while (byId.size() > capacity) {
            byId.remove(byAge.pollFirstEntry().getValue().sampleId);
        }
        return added;
    }

    public synchronized int size() {
        return byId.size();
    }

    /** The entries at most {@code maxStalenessSteps} behind {@code currentStep}, oldest first. */
    public synchronized Snapshot snapshot(long currentStep) {
        List<Entry> fresh = new ArrayList<>(byId.size());
        for (Entry e : byAge.values()) {
            if (maxStalenessSteps == 0 || currentStep - e.order.step <= maxStalenessSteps) {
                fresh.add(e);
            }
        }
        int d = Math.max(dim, 0);
        List<String> ids = new ArrayList<>(fresh.size());
        List<String> labels = new ArrayList<>(fresh.size());
        long[] steps = new long[fresh.size()];
        float[] rows = new float[fresh.size() * d];
        for (int i = 0; i < fresh.size(); i++) {
            Entry e = fresh.get(i);
            ids.add(e.sampleId);
            labels.add(e.label);
            steps[i] = e.order.step;
            System.arraycopy(e.embedding, 0, rows, i * d, d);
        }
        return new Snapshot(List.copyOf(ids), List.copyOf(labels), steps, rows, d);
    }

    /**
     * Entries as parallel arrays, ready for a tensor: row {@code i} of {@code embeddings} is
     * {@code embeddings[i * dim … (i + 1) * dim)}.
     */
    public record Snapshot(List<String> sampleIds, List<String> labels, long[] steps, float[] embeddings, int dim) {
        public int size() {
            return sampleIds.size();
        }
    }
}
