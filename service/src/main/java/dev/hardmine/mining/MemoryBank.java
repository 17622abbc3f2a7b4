package dev.hardmine.mining;

import dev.hardmine.mining.internals.InsertionOrder;
import dev.hardmine.mining.internals.IntList;
import dev.hardmine.mining.internals.RunningLargest;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The rolling cross-batch memory of one job: recent samples (id, label, embedding, step) with
 * per-identity ring buffers and the three eviction rules of docs/DESIGN.md.
 *
 * <p>Layout: live entries occupy slots {@code 0 … size-1} of one c-order ND4J matrix with
 * {@code dim + 1} columns, row {@code [x, |x|²]}. With an anchor row {@code [−2a, 1]} one matrix
 * product yields squared euclidean distances less the anchor's |a|², which the scans add, and with
 * {@code [−a/|a|]} over the first {@code dim} columns negated cosine similarities up to the
 * per-slot factor {@link #inverseNorms()}. A removed entry's slot is filled by the last one, so
 * the live block stays contiguous and never holds holes; slot order is therefore not insertion
 * order, which every entry carries as {@link #seq(int)} (a replaced sample gets a new one). Per
 * label, slots are listed oldest first.
 *
 * <p>Every live entry is charged {@link #entryBytes} against {@link MemoryLimits#maxBytes()}; the
 * charge counts what the entry costs in the miner and again in the state store's copy.
 *
 * <p>Not thread-safe: a job's memory belongs to one processor.
 */
public final class MemoryBank implements AutoCloseable {
    private static final int INITIAL_CAPACITY = 1024;

    private final int dim;
    private final int width;
    private MemoryLimits limits;

    private INDArray matrix;
    private FloatBuffer rows;
    private int capacity;
    private int size;
    private long bytes;

    private long[] seqs;
    private long[] steps;
    private int[] labelOf;
    private String[] ids;
    private float[] inverseNorms;
    private final RunningLargest largestSquaredNorm = new RunningLargest();

    private final Map<String, Integer> slotById = new HashMap<>();
    private final InsertionOrder order = new InsertionOrder(INITIAL_CAPACITY);
    private final Map<String, Integer> labelIds = new HashMap<>();
    private final List<String> labelNames = new ArrayList<>();
    private final List<IntList> slotsByLabel = new ArrayList<>();
    /**
     * Label ids whose label has no live entry left, reused for the next new labels: a job that
     * keeps meeting new identities holds tables of the labels in memory, not of every label seen.
     */
    private final IntList freeLabelIds = new IntList(8);
    private int identities;
    private boolean trimAllIdentities;
    private final List<String> moved = new ArrayList<>();

    private long nextSeq;
    private long newestStep = Long.MIN_VALUE;
    private long oldestLiveStep = Long.MAX_VALUE;

    public MemoryBank(int dim, MemoryLimits limits) {
        if (dim <= 0) {
            throw new IllegalArgumentException("dim must be > 0, got " + dim);
        }
        this.dim = dim;
        this.width = dim + 1;
        this.limits = limits;
        allocate(limits.maxEmbeddings() > 0 ? Math.min(INITIAL_CAPACITY, limits.maxEmbeddings()) : INITIAL_CAPACITY);
    }

    public int dim() {
        return dim;
    }

    public MemoryLimits limits() {
        return limits;
    }

    /** New limits apply from the next {@link #enqueue}, to every identity. */
    public void setLimits(MemoryLimits limits) {
        int before = this.limits.perIdentity();
        if (limits.perIdentity() > 0 && (before == 0 || limits.perIdentity() < before)) {
            // Identities the next batch does not touch may now hold too many samples.
            trimAllIdentities = true;
        }
        this.limits = limits;
    }

    /** Live entries. */
    public int size() {
        return size;
    }

    /** What the live entries are charged against {@link MemoryLimits#maxBytes()}: the sum of their {@link #entryBytes}. */
    public long bytes() {
        return bytes;
    }

    /**
     * What one entry is charged against the byte budget: {@code dim + 2} floats for its row of the
     * float matrix ({@code dim + 1} of them) and as many for its copy in the state store, plus ids,
     * maps and indexes (a generous 256 bytes), plus its sample id and label at 2 bytes a character,
     * in the miner and again in the store.
     */
    public static long entryBytes(int dim, String sampleId, String label) {
        return fixedEntryBytes(dim) + 4L * (sampleId.length() + label.length());
    }

    /** The part of {@link #entryBytes} that does not depend on the ids: the least an entry costs. */
    public static long fixedEntryBytes(int dim) {
        return 2L * 4 * (dim + 2) + 256;
    }

    /** Labels with at least one live entry. */
    public int identities() {
        return identities;
    }

    /** The largest step ever enqueued, or {@code Long.MIN_VALUE} when nothing was. */
    public long newestStep() {
        return newestStep;
    }

    /** The smallest step among live entries, or {@code Long.MAX_VALUE} when empty. */
    public long oldestStep() {
        long oldest = Long.MAX_VALUE;
        for (int s = 0; s < size; s++) {
            oldest = Math.min(oldest, steps[s]);
        }
        return oldest;
    }

    /**
     * Enqueues every sample of {@code batch} (whose embeddings are given already as ingested,
     * i.e. normalised where the job normalises), replacing earlier entries with the same
     * sample id, then applies the eviction rules: per identity, then by age, then in total.
     *
     * @return the sample ids that left the memory (replaced ones excluded)
     */
    public List<String> enqueue(SampleBatch batch, float[] ingested) {
        if (batch.dim() != dim) {
            throw new InvalidBatchException(InvalidBatchException.DIM_MISMATCH,
                    "batch dim " + batch.dim() + " differs from the job's dim " + dim);
        }
        int n = batch.size();
        moved.clear();
        IntList touched = new IntList(n);
        for (int i = 0; i < n; i++) {
            long seq = nextSeq++;
            int label = insert(batch.sampleId(i), batch.label(i), batch.step(), seq, ingested, i * dim, -1);
            touched.add(label);
        }
        return evict(touched);
    }

    /**
     * Restores one entry with its original insertion number, for rebuilding the memory from a
     * persisted copy. Entries must be restored in insertion order; limits are not applied.
     *
     * @throws IllegalArgumentException when {@code seq} is not larger than every earlier entry's
     */
    public void restore(String sampleId, String label, long step, long seq, float[] embedding) {
        if (embedding.length != dim) {
            throw new IllegalArgumentException("embedding of " + embedding.length + " values, expected " + dim);
        }
        insert(sampleId, label, step, seq, embedding, 0, -1);
        nextSeq = Math.max(nextSeq, seq + 1);
    }

    /**
     * Restores one entry into the slot it held when it was saved, so that the rebuilt memory has
     * the saved layout as well as the saved content: every per-slot sum then adds in the same
     * order and the results agree bit for bit. Entries must be restored in insertion order;
     * {@link #finishRestore()} checks that the slots came out contiguous.
     *
     * @throws IllegalArgumentException when {@code seq} is not larger than every earlier entry's
     */
    public void restoreAt(int slot, String sampleId, String label, long step, long seq, float[] embedding) {
        if (embedding.length != dim) {
            throw new IllegalArgumentException("embedding of " + embedding.length + " values, expected " + dim);
        }
        if (slot < 0 || (slot < size && ids[slot] != null) || slotById.containsKey(sampleId)) {
            throw new IllegalStateException("slot " + slot + " or sample " + sampleId + " restored twice");
        }
        insert(sampleId, label, step, seq, embedding, 0, slot);
        nextSeq = Math.max(nextSeq, seq + 1);
    }

    /** @throws IllegalStateException when restored slots left holes (the persisted copy was incomplete) */
    public void finishRestore() {
        if (slotById.size() != size) {
            throw new IllegalStateException("restored memory has " + slotById.size() + " entries in " + size
                    + " slots: the persisted copy is incomplete");
        }
    }

    /**
     * The sample ids whose slot the last {@link #enqueue} changed, other than those it inserted: a
     * removal moves the last entry into the freed slot. A persisted copy that keeps slots re-saves them.
     */
    public List<String> movedInLastEnqueue() {
        return List.copyOf(moved);
    }

    /** The smallest insertion number among live entries, or {@link #nextSeq()} when empty. */
    public long oldestSeq() {
        return order.isEmpty() ? nextSeq : order.firstSeq();
    }

    /**
     * Restores the counters that entries alone do not carry (entries may have been evicted since):
     * the next insertion number and the newest step ever enqueued.
     */
    public void restoreCounters(long nextSeq, long newestStep) {
        this.nextSeq = Math.max(this.nextSeq, nextSeq);
        this.newestStep = Math.max(this.newestStep, newestStep);
    }

    /** The next insertion number; persisted alongside the entries so replacements stay newest. */
    public long nextSeq() {
        return nextSeq;
    }

    /** Inserts into {@code at}, or after the last entry when {@code at} is negative. */
    private int insert(String id, String label, long step, long seq, float[] source, int offset, int at) {
        order.add(seq, id); // first: it refuses an entry out of insertion order before anything changed
        Integer existing = slotById.get(id);
        if (existing != null) {
            remove(existing);
        }
        int slot = at < 0 ? size : at;
        while (slot >= capacity) {
            grow();
        }
        size = Math.max(size, slot + 1);
        int base = slot * width;
        double norm2 = Embeddings.squaredNorm(source, offset, dim);
        rows.put(base, source, offset, dim);
        rows.put(base + dim, (float) norm2);
        inverseNorms[slot] = Embeddings.inverseNorm(norm2);
        largestSquaredNorm.add((float) norm2);

        Integer known = labelIds.get(label);
        int labelId = known != null ? known : newLabelId(label);
        IntList labelSlots = slotsByLabel.get(labelId);
        if (labelSlots.isEmpty()) {
            identities++;
        }
        labelSlots.add(slot);
        seqs[slot] = seq;
        steps[slot] = step;
        labelOf[slot] = labelId;
        ids[slot] = id;
        slotById.put(id, slot);
        bytes += entryBytes(dim, id, label);
        newestStep = Math.max(newestStep, step);
        oldestLiveStep = Math.min(oldestLiveStep, step);
        return labelId;
    }

    private int newLabelId(String label) {
        int id;
        if (!freeLabelIds.isEmpty()) {
            id = freeLabelIds.removeAt(freeLabelIds.size() - 1);
            labelNames.set(id, label);
        } else {
            id = labelNames.size();
            labelNames.add(label);
            slotsByLabel.add(new IntList(8));
        }
        labelIds.put(label, id);
        return id;
    }

    private List<String> evict(IntList touchedLabels) {
        List<String> evicted = new ArrayList<>();
        if (limits.perIdentity() > 0) {
            int labels = trimAllIdentities ? slotsByLabel.size() : touchedLabels.size();
            for (int i = 0; i < labels; i++) {
                IntList labelSlots = slotsByLabel.get(trimAllIdentities ? i : touchedLabels.get(i));
                while (labelSlots.size() > limits.perIdentity()) {
                    evicted.add(ids[labelSlots.get(0)]);
                    remove(labelSlots.get(0));
                }
            }
            trimAllIdentities = false;
        }
        if (limits.maxAgeSteps() > 0 && newestStep - limits.maxAgeSteps() > oldestLiveStep) {
            long cutoff = newestStep - limits.maxAgeSteps();
            long oldest = Long.MAX_VALUE;
            // Downwards: a removal moves the last slot, already visited, into the current one.
            for (int s = size - 1; s >= 0; s--) {
                if (steps[s] < cutoff) {
                    evicted.add(ids[s]);
                    remove(s);
                } else {
                    oldest = Math.min(oldest, steps[s]);
                }
            }
            oldestLiveStep = oldest;
        }
        if (limits.maxEmbeddings() > 0) {
            while (size > limits.maxEmbeddings()) {
                evictOldest(evicted);
            }
        }
        if (limits.maxBytes() > 0) {
            while (bytes > limits.maxBytes()) {
                evictOldest(evicted);
            }
        }
        return evicted;
    }

    private void evictOldest(List<String> evicted) {
        String oldestId = order.firstId();
        evicted.add(oldestId);
        remove(slotById.get(oldestId));
    }

    private void remove(int slot) {
        int labelId = labelOf[slot];
        bytes -= entryBytes(dim, ids[slot], labelNames.get(labelId));
        IntList labelSlots = slotsByLabel.get(labelId);
        labelSlots.removeAt(labelSlots.indexOf(slot));
        if (labelSlots.isEmpty()) {
            identities--;
            labelIds.remove(labelNames.get(labelId));
            labelNames.set(labelId, null);
            freeLabelIds.add(labelId);
        }
        slotById.remove(ids[slot]);
        order.remove(seqs[slot]);
        largestSquaredNorm.remove(squaredNorm(slot));
        int last = size - 1;
        if (slot != last) {
            rows.put(slot * width, rows, last * width, width);
            inverseNorms[slot] = inverseNorms[last];
            seqs[slot] = seqs[last];
            steps[slot] = steps[last];
            labelOf[slot] = labelOf[last];
            ids[slot] = ids[last];
            slotById.put(ids[slot], slot);
            moved.add(ids[slot]);
            IntList movedLabel = slotsByLabel.get(labelOf[slot]);
            movedLabel.array()[movedLabel.indexOf(last)] = slot;
        }
        ids[last] = null;
        size--;
        if (size == 0) {
            oldestLiveStep = Long.MAX_VALUE;
        }
    }

    private void allocate(int newCapacity) {
        INDArray old = matrix;
        INDArray fresh = Nd4j.createUninitialized(DataType.FLOAT, newCapacity, width);
        FloatBuffer freshRows = fresh.data().asNioFloat();
        if (old != null) {
            FloatBuffer src = rows.duplicate();
            src.position(0).limit(size * width);
            freshRows.duplicate().put(src);
            old.close();
        }
        matrix = fresh;
        rows = freshRows;
        int oldCapacity = capacity;
        capacity = newCapacity;
        seqs = copy(seqs, oldCapacity, newCapacity);
        steps = copy(steps, oldCapacity, newCapacity);
        labelOf = labelOf == null ? new int[newCapacity] : java.util.Arrays.copyOf(labelOf, newCapacity);
        ids = ids == null ? new String[newCapacity] : java.util.Arrays.copyOf(ids, newCapacity);
        inverseNorms = inverseNorms == null ? new float[newCapacity] : java.util.Arrays.copyOf(inverseNorms, newCapacity);
    }

    private static long[] copy(long[] a, int oldCapacity, int newCapacity) {
        return a == null ? new long[newCapacity] : java.util.Arrays.copyOf(a, newCapacity);
    }

    private void grow() {
        allocate(capacity * 2);
    }

    // ---- read access for the miner; slots are 0 … size-1 ----

    /** The {@code capacity × width} row-major matrix of slots, each slot's embedding then its squared norm: to read at absolute indices. */
    FloatBuffer rows() {
        return rows;
    }

    /** Where the {@code capacity × width} row-major matrix of slots starts, for native products. */
    FloatPointer address() {
        return (FloatPointer) matrix.data().addressPointer();
    }

    int width() {
        return width;
    }

    /** Per slot 1/|x| for cosine scores ({@link Embeddings#inverseNorm}: finite, 0 for a zero vector). */
    float[] inverseNorms() {
        return inverseNorms;
    }

    /** The largest |x|² of the entries (as stored, in float), 0 when empty. */
    float largestSquaredNorm() {
        return largestSquaredNorm.get(this::squaredNorm, size);
    }

    /** |x|² of a slot as the products read it: the last column of its row. */
    private float squaredNorm(int slot) {
        return rows.get(slot * width + dim);
    }

    /** Insertion number of a slot: smaller entered the memory first. */
    public long seq(int slot) {
        return seqs[slot];
    }

    public long step(int slot) {
        return steps[slot];
    }

    public String sampleId(int slot) {
        return ids[slot];
    }

    /** Label id of a slot; see {@link #labelName(int)}. */
    public int labelId(int slot) {
        return labelOf[slot];
    }

    public String labelName(int labelId) {
        return labelNames.get(labelId);
    }

    /** Label id of a label name, or -1 when the memory has never seen it. */
    public int labelIdOf(String label) {
        Integer id = labelIds.get(label);
        return id == null ? -1 : id;
    }

    /**
     * How many label ids exist (live or free for reuse); label ids are {@code 0 … labelCount-1}. A
     * free id has no slots; it counts the labels held at once, not every label ever seen.
     */
    int labelCount() {
        return labelNames.size();
    }

    /** Slots of a label, oldest first; empty when the label has no live entry. */
    IntList slotsOfLabel(int labelId) {
        return slotsByLabel.get(labelId);
    }

    /** Slot of a sample id, or -1. */
    public int slotOf(String sampleId) {
        Integer s = slotById.get(sampleId);
        return s == null ? -1 : s;
    }

    /** The stored embedding of a slot (as ingested). */
    public float[] embedding(int slot) {
        float[] out = new float[dim];
        rows.get(slot * width, out, 0, dim);
        return out;
    }

    /** Live entries in insertion order, for persistence, inspection and tests. */
    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>(size);
        for (String id : order.ids()) {
            int slot = slotById.get(id);
            out.add(new Entry(id, labelNames.get(labelOf[slot]), steps[slot], seqs[slot], embedding(slot)));
        }
        return out;
    }

    /** One memory entry. */
    public record Entry(String sampleId, String label, long step, long seq, float[] embedding) {
    }

    @Override
    public void close() {
        if (matrix != null) {
            matrix.close();
            matrix = null;
        }
    }
}
