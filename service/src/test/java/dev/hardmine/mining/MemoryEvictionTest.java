package dev.hardmine.mining;

import static dev.hardmine.mining.Batches.batch;
import static dev.hardmine.mining.MiningAssertions.entryIds;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * docs/DESIGN.md §1: after enqueueing a batch, per-identity first (oldest of that label), then
 * max-age (step &lt; newest − max-age-steps), then the total cap (oldest inserted). 0 = no limit.
 */
class MemoryEvictionTest {
    private static final MiningSettings SETTINGS = MiningSettings.defaults();

    /** Per identity 2: A holds a1, a2; a3 arrives, so a1 (the oldest A, not b1, the oldest overall) leaves. */
    @Test
    void evictsOldestSampleWhenIdentityIsFull() {
        try (JobMiner miner = new JobMiner(new MemoryLimits(2, 0, 0))) {
            miner.mine(batch("b1", 1, "b1:B:5", "a1:A:0", "a2:A:1"), SETTINGS);
            MiningResult r = miner.mine(batch("b2", 2, "a3:A:2"), SETTINGS);
            assertThat(r.evicted()).containsExactly("a1");
            assertThat(entryIds(miner.memory().entries())).containsExactly("b1", "a2", "a3");
            assertThat(r.stats().memorySize()).isEqualTo(3);
        }
    }

    /** Max 5: s1…s4, then s5…s7 make 7, so the 2 oldest, s1 and s2, leave. */
    @Test
    void evictsOldestEntriesBeyondMaxEmbeddings() {
        try (JobMiner miner = new JobMiner(new MemoryLimits(0, 5, 0))) {
            miner.mine(batch("b1", 1, "s1:A:1", "s2:B:2", "s3:A:3", "s4:B:4"), SETTINGS);
            MiningResult r = miner.mine(batch("b2", 2, "s5:A:5", "s6:B:6", "s7:C:7"), SETTINGS);
            assertThat(r.evicted()).containsExactlyInAnyOrder("s1", "s2");
            assertThat(entryIds(miner.memory().entries())).containsExactly("s3", "s4", "s5", "s6", "s7");
            assertThat(r.stats().memorySize()).isEqualTo(5);
        }
    }

    /** Max age 3: at step 5, step 1 is 4 behind (evicted), step 2 exactly 3 behind (kept). */
    @Test
    void evictsEntriesMoreThanMaxAgeStepsBehindTheNewest() {
        try (JobMiner miner = new JobMiner(new MemoryLimits(0, 0, 3))) {
            miner.mine(batch("b1", 1, "x1:A:1"), SETTINGS);
            miner.mine(batch("b2", 2, "x2:A:2"), SETTINGS);
            MiningResult r = miner.mine(batch("b3", 5, "x3:A:3"), SETTINGS);
            assertThat(r.evicted()).containsExactly("x1");
            assertThat(entryIds(miner.memory().entries())).containsExactly("x2", "x3");
        }
    }

    /** Max age 3: after step 10, a late batch at step 6 is 4 behind the newest step seen: gone on arrival. */
    @Test
    void ageIsMeasuredFromTheNewestStepSeen() {
        try (JobMiner miner = new JobMiner(new MemoryLimits(0, 0, 3))) {
            miner.mine(batch("b1", 10, "x1:A:1"), SETTINGS);
            MiningResult r = miner.mine(batch("b2", 6, "y1:B:2"), SETTINGS);
            assertThat(r.evicted()).containsExactly("y1");
            assertThat(entryIds(miner.memory().entries())).containsExactly("x1");
        }
    }

    /**
     * Per identity 2, max age 3. a1 at step 5, a2 (late) at step 2, a3 at step 6. Per identity
     * first: A holds a1, a2, a3, so a1 (oldest inserted) leaves; then age: a2 (step 2 &lt; 6 − 3)
     * leaves. Only a3 stays. (Age first would keep a1 and a3.)
     */
    @Test
    void appliesPerIdentityLimitBeforeAgeLimit() {
        try (JobMiner miner = new JobMiner(new MemoryLimits(2, 0, 3))) {
            miner.mine(batch("b1", 5, "a1:A:1"), SETTINGS);
            assertThat(miner.mine(batch("b2", 2, "a2:A:2"), SETTINGS).evicted()).isEmpty();
            MiningResult r = miner.mine(batch("b3", 6, "a3:A:3"), SETTINGS);
            assertThat(r.evicted()).containsExactlyInAnyOrder("a1", "a2");
            assertThat(entryIds(miner.memory().entries())).containsExactly("a3");
        }
    }

    /**
     * Max 2, max age 5. x1 at step 4, y1 (late) at step 3, z1 at step 9. Age first: y1
     * (3 &lt; 9 − 5) leaves, x1 (4, not &lt; 4) stays, and 2 entries fit the cap. (Cap first would
     * evict x1, the oldest inserted, then y1 by age, keeping z1 alone.)
     */
    @Test
    void appliesAgeLimitBeforeTotalCap() {
        try (JobMiner miner = new JobMiner(new MemoryLimits(0, 2, 5))) {
            miner.mine(batch("b1", 4, "x1:X:1"), SETTINGS);
            miner.mine(batch("b2", 3, "y1:Y:2"), SETTINGS);
            MiningResult r = miner.mine(batch("b3", 9, "z1:Z:3"), SETTINGS);
            assertThat(r.evicted()).containsExactly("y1");
            assertThat(entryIds(miner.memory().entries())).containsExactly("x1", "z1");
        }
    }

    /**
     * Per identity 1, max 3. b1, then a1, a2 (A) and c1: per identity first evicts a1, leaving
     * b1, a2, c1 within the cap. (Cap first would evict b1, the oldest inserted.)
     */
    @Test
    void appliesPerIdentityLimitBeforeTotalCap() {
        try (JobMiner miner = new JobMiner(new MemoryLimits(1, 3, 0))) {
            miner.mine(batch("b1", 1, "b1:B:1"), SETTINGS);
            MiningResult r = miner.mine(batch("b2", 2, "a1:A:2", "a2:A:3", "c1:C:4"), SETTINGS);
            assertThat(r.evicted()).containsExactly("a1");
            assertThat(entryIds(miner.memory().entries())).containsExactly("b1", "a2", "c1");
        }
    }

    /** Zeros mean no limit: 3 batches of 8 samples, steps 100 apart, all kept. */
    @Test
    void zeroLimitsKeepEverySample() {
        try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
            for (int b = 0; b < 3; b++) {
                String[] samples = new String[8];
                for (int i = 0; i < 8; i++) {
                    samples[i] = "s" + b + "_" + i + ":A:" + i;
                }
                assertThat(miner.mine(batch("b" + b, 100L * b, samples), SETTINGS).evicted()).isEmpty();
            }
            assertThat(miner.memory().size()).isEqualTo(24);
        }
    }

    /**
     * Per identity 1, max age 2. a1 at step 10; a2 (A, late) at step 3 first evicts a1 (per
     * identity), then itself (3 &lt; 10 − 2). The memory is empty while a2 is mined: one anchor,
     * not valid, nothing emitted. The next batch mines
     * normally.
     */
    @Test
    void batchEvictedOnArrivalIsMinedAgainstAnEmptyMemory() {
        try (JobMiner miner = new JobMiner(new MemoryLimits(1, 0, 2))) {
            miner.mine(batch("b1", 10, "a1:A:0"), SETTINGS);
            MiningResult r = miner.mine(batch("b2", 3, "a2:A:1"), SETTINGS);
            assertThat(r.evicted()).containsExactlyInAnyOrder("a1", "a2");
            assertThat(r.triplets()).isEmpty();
            assertThat(r.stats().anchors()).isEqualTo(1);
            assertThat(r.stats().validAnchors()).isZero();
            assertThat(r.stats().memorySize()).isZero();
            assertThat(r.stats().memoryIdentities()).isZero();

            MiningResult next = miner.mine(batch("b3", 11, "c1:C:0", "d1:D:3"), SETTINGS);
            assertThat(next.stats().memorySize()).isEqualTo(2);
            assertThat(next.stats().memoryIdentities()).isEqualTo(2);
        }
    }

    /**
     * A lowered per-identity limit holds for every identity from the next batch, not only for
     * the identities that batch touches: A holds a1, a2, a3; the limit drops to 2; a batch with
     * only c1 arrives, and a1 leaves.
     */
    @Test
    void loweredPerIdentityLimitAppliesToEveryIdentityOnTheNextBatch() {
        try (JobMiner miner = new JobMiner(MemoryLimits.unbounded())) {
            miner.mine(batch("b1", 1, "a1:A:0", "a2:A:1", "a3:A:2", "b1:B:3"), SETTINGS);
            miner.setLimits(new MemoryLimits(2, 0, 0));
            MiningResult r = miner.mine(batch("b2", 2, "c1:C:4"), SETTINGS);
            assertThat(r.evicted()).containsExactly("a1");
            assertThat(entryIds(miner.memory().entries())).containsExactly("a2", "a3", "b1", "c1");
        }
    }
}
