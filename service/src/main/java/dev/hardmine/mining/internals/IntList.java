package dev.hardmine.mining.internals;

import java.util.Arrays;

/** A growable list of ints in insertion order, without boxing. */
public final class IntList {
    private int[] values;
    private int size;

    public IntList(int capacity) {
        values = new int[Math.max(capacity, 4)];
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public int get(int index) {
        return values[index];
    }

    public void add(int value) {
        if (size == values.length) {
            values = Arrays.copyOf(values, values.length * 2);
        }
        values[size++] = value;
    }

    public void clear() {
        size = 0;
    }

    /** Removes the element at {@code index}, keeping the order of the rest. */
    public int removeAt(int index) {
        int v = values[index];
        System.arraycopy(values, index + 1, values, index, size - index - 1);
        size--;
        return v;
    }

    /** Index of the first occurrence of {@code value}, or -1. */
    public int indexOf(int value) {
        for (int i = 0; i < size; i++) {
            if (values[i] == value) {
                return i;
            }
        }
        return -1;
    }

    /** The backing array; only the first {@link #size()} entries are meaningful. */
    public int[] array() {
        return values;
    }
}
