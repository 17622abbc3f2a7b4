package dev.hardmine.mining.internals;

import dev.hardmine.mining.MemoryBank;

/**
 * Sorting by float value without boxing: a value and an index packed into one long whose
 * natural order is the order of the values (then of the indexes).
 */
public final class SortKeys {
    private SortKeys() {
    }

    /** An int whose signed order is the numeric order of {@code v} (NaN excluded). */
    public static int sortableBits(float v) {
        int bits = Float.floatToIntBits(v == 0f ? 0f : v);
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    public static long key(float value, int index) {
        return ((long) sortableBits(value) << 32) | (index & 0xffffffffL);
    }

    public static int index(long key) {
        return (int) key;
    }

    /**
     * Within runs of equal values in {@code values[0 … n)} (already sorted), orders the slots by
     * insertion into the memory, oldest first. Runs are short, so insertion sort.
     */
    public static void orderTiesByInsertion(int[] slots, float[] values, int n, MemoryBank memory) {
        int start = 0;
        while (start < n) {
            int end = start + 1;
            while (end < n && values[end] == values[start]) {
                end++;
            }
            for (int i = start + 1; i < end; i++) {
                int slot = slots[i];
                long seq = memory.seq(slot);
                int j = i - 1;
                while (j >= start && memory.seq(slots[j]) > seq) {
                    slots[j + 1] = slots[j];
                    j--;
                }
                slots[j + 1] = slot;
            }
            start = end;
        }
    }
}
