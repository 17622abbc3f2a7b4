package dev.hardmine.mining;

import java.nio.FloatBuffer;

/**
 * Reads a memory's rows as the products would, one float per 64-byte cache line, so that a
 * benchmark can keep them in the caches between steps ({@code IdleGapStepBenchmark},
 * {@code gapSpin=touch}).
 */
public final class MemoryTouch {
    private static final int FLOATS_PER_LINE = 16;

    private MemoryTouch() {
    }

    /** Reads every cache line of the live slots' rows; returns the sum of what it read. */
    public static float touch(MemoryBank bank) {
        FloatBuffer rows = bank.rows();
        int floats = bank.size() * bank.width();
        float sum = 0;
        for (int i = 0; i < floats; i += FLOATS_PER_LINE) {
            sum += rows.get(i);
        }
        return sum;
    }
}
