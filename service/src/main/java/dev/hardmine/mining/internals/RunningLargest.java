package dev.hardmine.mining.internals;

/**
 * The largest of a changing collection of non-negative floats (NaN excluded) that the caller
 * keeps: kept as values come and go, and recomputed from the caller's values only when the last
 * value equal to the largest leaves, so that a memory turning over costs one pass per turn
 * however many values tie with the largest.
 */
public final class RunningLargest {
    /** The collection, by index. */
    @FunctionalInterface
    public interface Values {
        float at(int index);
    }

    private float largest;
    private int atLargest; // how many of the values equal largest
    private boolean stale;

    /** A value joins the collection. */
    public void add(float value) {
        if (stale) {
            return;
        }
        if (value > largest) {
            largest = value;
            atLargest = 1;
        } else if (value == largest) {
            atLargest++;
        }
    }

    /** A value that was added leaves the collection. */
    public void remove(float value) {
        if (!stale && value == largest && --atLargest == 0) {
            stale = true;
        }
    }

    /** The largest of {@code values.at(0 … n)}, which must be the collection; 0 when it is empty. */
    public float get(Values values, int n) {
        if (stale) {
            largest = 0f;
            atLargest = 0;
            stale = false;
            for (int i = 0; i < n; i++) {
                add(values.at(i));
            }
        }
        return largest;
    }
}
