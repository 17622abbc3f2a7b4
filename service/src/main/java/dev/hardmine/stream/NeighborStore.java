package dev.hardmine.stream;

import dev.hardmine.mining.NeighborList;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Each identity's confusable identities as kept in a Kafka Streams key-value store with a
 * changelog, so that they survive restarts and move with their partition.
 *
 * <p>Key: {@code job_id + '\0' + label}. Value, format version 1: byte 1, the list's newest step
 * (long), the number of entries (int), then per entry its label (int length, UTF-8 bytes), score
 * (double, as of its own last step), count (long) and last step (long). A value of another
 * version is an error, never silently misread.
 */
public final class NeighborStore {
    public static final String NAME = "neighbors";
    static final byte FORMAT_VERSION = 1;

    private final KeyValueStore<Bytes, byte[]> store;

    public NeighborStore(KeyValueStore<Bytes, byte[]> store) {
        this.store = store;
    }

    private static Bytes key(String jobId, String label) {
        return Bytes.wrap((jobId + '\0' + label).getBytes(StandardCharsets.UTF_8));
    }

    /** The label's list, or an empty one when the store has none. */
    public NeighborList load(String jobId, String label) {
        byte[] value = store.get(key(jobId, label));
        return value == null ? NeighborList.empty() : decode(value);
    }

    public void save(String jobId, String label, NeighborList list) {
        store.put(key(jobId, label), encode(list));
    }

    static byte[] encode(NeighborList list) {
        List<NeighborList.Neighbor> entries = list.entries();
        List<byte[]> labels = new ArrayList<>(entries.size());
        int size = 1 + 8 + 4;
        for (NeighborList.Neighbor n : entries) {
            byte[] label = n.label().getBytes(StandardCharsets.UTF_8);
            labels.add(label);
            size += 4 + label.length + 8 + 8 + 8;
        }
        ByteBuffer out = ByteBuffer.allocate(size).put(FORMAT_VERSION).putLong(list.step()).putInt(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            NeighborList.Neighbor n = entries.get(i);
            out.putInt(labels.get(i).length).put(labels.get(i)).putDouble(n.score()).putLong(n.count())
                    .putLong(n.lastStep());
        }
        return out.array();
    }

    static NeighborList decode(byte[] value) {
        ByteBuffer in = ByteBuffer.wrap(value);
        StateFormat.read(in, NAME, FORMAT_VERSION, FORMAT_VERSION);
        long step = in.getLong();
        int count = in.getInt();
        List<NeighborList.Neighbor> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] label = new byte[in.getInt()];
            in.get(label);
            entries.add(new NeighborList.Neighbor(new String(label, StandardCharsets.UTF_8), in.getDouble(),
                    in.getLong(), in.getLong()));
        }
        return new NeighborList(step, entries);
    }
}
