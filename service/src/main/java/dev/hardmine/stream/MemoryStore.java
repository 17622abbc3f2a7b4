package dev.hardmine.stream;

import dev.hardmine.mining.MemoryBank;
import dev.hardmine.mining.MemoryLimits;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * A job's memory as it is kept in a Kafka Streams key-value store with a changelog — the source
 * of truth that survives restarts and moves with its partition. The miner's contiguous matrix
 * is a cache rebuilt from it.
 *
 * <p>Keys: {@code memoryKey + '\0' + sample_id} for entries, {@code memoryKey + '\0'} for the
 * job's counters (an empty sample id is invalid input, so the two never collide). Values, format
 * version {@value #FORMAT_VERSION}: byte 1, then for an entry its insertion number (long), slot
 * (int), step (long), label (int length, UTF-8 bytes) and embedding (little-endian floats); for the
 * counters the dim (int), next insertion number (long) and newest step (long). Values written
 * before the version byte existed ({@link StateFormat#UNVERSIONED}) have the same fields without it,
 * and are read as they are. Keeping the slot rebuilds the matrix in the saved layout, so a
 * restarted or moved job mines bit for bit as if it had never stopped. Writes per batch are
 * proportional to the batch: its entries, the entries evicted, the entries an eviction moved to
 * another slot, the counters.
 */
public final class MemoryStore {
    public static final String NAME = "memory";
    static final byte FORMAT_VERSION = 1;

    private final KeyValueStore<Bytes, byte[]> store;

    public MemoryStore(KeyValueStore<Bytes, byte[]> store) {
        this.store = store;
    }

    private static Bytes key(String memoryKey, String sampleId) {
        return Bytes.wrap((memoryKey + '\0' + sampleId).getBytes(StandardCharsets.UTF_8));
    }

    /** Rebuilds a job's memory, or returns null when the store holds nothing for it. */
    public MemoryBank load(String memoryKey, MemoryLimits limits) {
        byte[] value = store.get(key(memoryKey, ""));
        if (value == null) {
            return null;
        }
        Counters counters = Counters.read(ByteBuffer.wrap(value));
        List<Stored> entries = new ArrayList<>();
        String prefix = memoryKey + '\0';
        try (KeyValueIterator<Bytes, byte[]> it = store.prefixScan(prefix, Serdes.String().serializer())) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> kv = it.next();
                String sampleId = new String(kv.key.get(), StandardCharsets.UTF_8).substring(prefix.length());
                if (!sampleId.isEmpty()) {
                    ByteBuffer v = ByteBuffer.wrap(kv.value);
                    entries.add(new Stored(sampleId, Entry.read(v), v));
                }
            }
        }
        entries.sort(Comparator.comparingLong(e -> e.entry().seq()));
        MemoryBank bank = new MemoryBank(counters.dim(), limits);
        for (Stored e : entries) {
            float[] embedding = new float[counters.dim()];
            e.embedding().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(embedding);
            bank.restoreAt(e.entry().slot(), e.sampleId(), e.entry().label(), e.entry().step(), e.entry().seq(),
                    embedding);
        }
        bank.finishRestore();
        bank.restoreCounters(counters.nextSeq(), counters.newestStep());
        return bank;
    }

    /** Persists what one batch changed (call after each mined batch). */
    public void save(String memoryKey, MemoryBank bank, List<String> batchSampleIds, List<String> evicted) {
        // An eviction moves the last entry into the freed slot, and the last entries are mostly the
        // batch's own: each entry is written once, in its final slot.
        Set<String> changed = new LinkedHashSet<>(batchSampleIds);
        changed.addAll(bank.movedInLastEnqueue());
        List<KeyValue<Bytes, byte[]>> writes = new ArrayList<>(changed.size() + evicted.size() + 1);
        for (String id : changed) {
            int slot = bank.slotOf(id);
            if (slot >= 0) {
                writes.add(KeyValue.pair(key(memoryKey, id), encode(bank, slot)));
            }
        }
        for (String id : evicted) {
            if (bank.slotOf(id) < 0) {
                writes.add(KeyValue.pair(key(memoryKey, id), null)); // a delete
            }
        }
        ByteBuffer c = ByteBuffer.allocate(1 + 4 + 8 + 8);
        c.put(FORMAT_VERSION).putInt(bank.dim()).putLong(bank.nextSeq()).putLong(bank.newestStep());
        writes.add(KeyValue.pair(key(memoryKey, ""), c.array()));
        // One write batch: RocksDB applies it whole or not at all, so a failure leaves the batch's
        // entries out of the store entirely (MiningProcessor then drops its copy of the memory too).
        store.putAll(writes);
    }

    /**
     * What a store holds of one job: its entries under the memory key {@code jobId} and, with
     * identity sharding, under every {@code jobId#shard}; null when it holds nothing of the job.
     * Reads the entries' step and label only, not their embeddings.
     */
    public static MemorySummary summarize(ReadOnlyKeyValueStore<Bytes, byte[]> store, String jobId) {
        long size = 0;
        long oldest = Long.MAX_VALUE;
        long newest = Long.MIN_VALUE;
        int dim = 0;
        boolean found = false;
        Set<String> labels = new HashSet<>();
        try (KeyValueIterator<Bytes, byte[]> it = store.prefixScan(jobId, Serdes.String().serializer())) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> kv = it.next();
                String key = new String(kv.key.get(), StandardCharsets.UTF_8);
                int cut = key.indexOf('\0');
                if (cut < 0 || !isMemoryKeyOf(key.substring(0, cut), jobId)) {
                    continue;
                }
                found = true;
                ByteBuffer v = ByteBuffer.wrap(kv.value);
                if (cut == key.length() - 1) {
                    dim = Counters.read(v).dim();
                    continue;
                }
                Entry entry = Entry.read(v);
                size++;
                oldest = Math.min(oldest, entry.step());
                newest = Math.max(newest, entry.step());
                labels.add(entry.label());
            }
        }
        if (!found) {
            return null;
        }
        return size == 0 ? new MemorySummary(0, 0, -1, -1, dim)
                : new MemorySummary(size, labels.size(), oldest, newest, dim);
    }

    private static boolean isMemoryKeyOf(String memoryKey, String jobId) {
        if (memoryKey.equals(jobId)) {
            return true;
        }
        if (memoryKey.length() <= jobId.length() + 1 || !memoryKey.startsWith(jobId)
                || memoryKey.charAt(jobId.length()) != ShardSplitter.SEPARATOR) {
            return false;
        }
        return memoryKey.substring(jobId.length() + 1).chars().allMatch(Character::isDigit);
    }

    /** The counters' value: the job's dim, next insertion number and newest step. */
    private record Counters(int dim, long nextSeq, long newestStep) {
        static Counters read(ByteBuffer v) {
            StateFormat.read(v, NAME, StateFormat.UNVERSIONED, FORMAT_VERSION);
            return new Counters(v.getInt(), v.getLong(), v.getLong());
        }
    }

    /** An entry value's fields before its embedding, as {@link #encode} writes them. */
    private record Entry(long seq, int slot, long step, String label) {
        /** Reads the fields and leaves the buffer at the embedding. */
        static Entry read(ByteBuffer v) {
            StateFormat.read(v, NAME, StateFormat.UNVERSIONED, FORMAT_VERSION);
            long seq = v.getLong();
            int slot = v.getInt();
            long step = v.getLong();
            byte[] label = new byte[v.getInt()];
            v.get(label);
            return new Entry(seq, slot, step, new String(label, StandardCharsets.UTF_8));
        }
    }

    /** An entry as read back, its buffer at the embedding. */
    private record Stored(String sampleId, Entry entry, ByteBuffer embedding) {
    }

    /** One allocation of the value's exact size: the version byte costs no copy on the batch's path. */
    private static byte[] encode(MemoryBank bank, int slot) {
        byte[] label = bank.labelName(bank.labelId(slot)).getBytes(StandardCharsets.UTF_8);
        float[] embedding = bank.embedding(slot);
        ByteBuffer v = ByteBuffer.allocate(1 + 8 + 4 + 8 + 4 + label.length + 4 * embedding.length);
        v.put(FORMAT_VERSION).putLong(bank.seq(slot)).putInt(slot).putLong(bank.step(slot))
                .putInt(label.length).put(label);
        v.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(embedding);
        return v.array();
    }
}
