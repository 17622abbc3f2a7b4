package dev.hardmine.mining.internals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Entries (insertion number, id) by increasing insertion number, as a memory needs them: added in
 * that order, removed from anywhere, the oldest asked for often. Two parallel arrays: a removal
 * finds its entry by binary search and clears it, the cleared entries at the front are skipped at
 * once, the others when the arrays fill up (they are compacted then, and doubled only when more
 * than half of them is live, so adding stays constant time on average). A {@code TreeMap} kept
 * the same with two boxed objects and a rebalancing per entry.
 */
public final class InsertionOrder {
    private long[] seqs;
    private String[] ids; // null where removed
    private int head;     // the first live entry, or tail when none is
    private int tail;
    private int live;
    private long last = Long.MIN_VALUE;

    public InsertionOrder(int capacity) {
        seqs = new long[Math.max(capacity, 4)];
        ids = new String[seqs.length];
    }

    public int size() {
        return live;
    }

    public boolean isEmpty() {
        return live == 0;
    }

    /**
     * Adds {@code id} with insertion number {@code seq}.
     *
     * @throws IllegalArgumentException when {@code seq} is not larger than every number added before
     */
    public void add(long seq, String id) {
        if (seq <= last) {
            throw new IllegalArgumentException("entries must come in insertion order: " + seq + " after " + last);
        }
        if (tail == seqs.length) {
            compact();
        }
        seqs[tail] = seq;
        ids[tail++] = id;
        live++;
        last = seq;
    }

    /**
     * Removes the entry numbered {@code seq}.
     *
     * @throws NoSuchElementException when no live entry has that number
     */
    public void remove(long seq) {
        int i = Arrays.binarySearch(seqs, head, tail, seq);
        if (i < 0 || ids[i] == null) {
            throw new NoSuchElementException("no entry numbered " + seq);
        }
        ids[i] = null;
        live--;
        while (head < tail && ids[head] == null) {
            head++;
        }
    }

    /** The smallest insertion number among the entries. @throws NoSuchElementException when empty */
    public long firstSeq() {
        checkNotEmpty();
        return seqs[head];
    }

    /** The id of the entry with the smallest insertion number. @throws NoSuchElementException when empty */
    public String firstId() {
        checkNotEmpty();
        return ids[head];
    }

    /** The ids, oldest first. */
    public List<String> ids() {
        List<String> out = new ArrayList<>(live);
        for (int i = head; i < tail; i++) {
            if (ids[i] != null) {
                out.add(ids[i]);
            }
        }
        return out;
    }

    private void checkNotEmpty() {
        if (live == 0) {
            throw new NoSuchElementException("no entries");
        }
    }

    /** Moves the live entries to the front, into arrays twice as long when more than half are live. */
    private void compact() {
        boolean grow = live > seqs.length / 2;
        long[] toSeqs = grow ? new long[seqs.length * 2] : seqs;
        String[] toIds = grow ? new String[seqs.length * 2] : ids;
        int n = 0;
        for (int i = head; i < tail; i++) { // n <= i: in place is safe
            if (ids[i] != null) {
                toSeqs[n] = seqs[i];
                toIds[n++] = ids[i];
            }
        }
        if (!grow) {
            Arrays.fill(ids, n, tail, null);
        }
        seqs = toSeqs;
        ids = toIds;
        head = 0;
        tail = n;
    }
}
