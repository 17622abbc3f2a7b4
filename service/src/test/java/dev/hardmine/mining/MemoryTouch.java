package dev.hardmine.mining;

/**
 * Reads a memory's rows as the products would, one float per 64-byte cache line, so that a
 * benchmark can keep them in the caches between steps ({@code IdleGapStepBenchmark},
 * {@code gapSpin=touch}).
 */
public final class MemoryTouch {
    private MemoryTouch() {
    }

    /** Reads every cache line of the live slots' rows, as the MemoryWarmer does; returns the sum of what it read. */
    public static float touch(MemoryBank bank) {
        return MemoryWarmer.EVERY_LINE.read(bank.rows(), 0, bank.size() * bank.width());
    }
}
