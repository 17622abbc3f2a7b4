package dev.hardmine.mining.internals;

/**
 * A sum of terms in [0, 1] whose value does not depend on the order the terms are added in:
 * each term is rounded once to a multiple of 2⁻⁶², and the multiples are added exactly in 128
 * bits. The rounding costs at most 2⁻⁶² per term.
 */
public final class ExactSum {
    private static final double UNIT = 0x1p62;

    private long high;
    private long low;

    public void clear() {
        high = 0;
        low = 0;
    }

    /** Adds {@code term}, which must lie in [0, 1]. */
    public void add(double term) {
        long units = Math.round(term * UNIT);
        long sum = low + units;
        if (Long.compareUnsigned(sum, low) < 0) {
            high++;
        }
        low = sum;
    }

    public double value() {
        double lowValue = (double) (low >>> 1) * 2.0 + (low & 1);
        return (high * 0x1p64 + lowValue) / UNIT;
    }
}
