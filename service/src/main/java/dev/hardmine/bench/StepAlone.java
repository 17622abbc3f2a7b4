package dev.hardmine.bench;

import dev.hardmine.mining.JobMiner;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.SampleBatch;
import dev.hardmine.stream.JobSettings;
import dev.hardmine.stream.ServiceConfig;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * The bench job's mining step timed alone, in the bench's own JVM: the settings and memory bounds
 * the service resolves for a job without a JobConfig (as {@code MiningProcessor} does), a memory
 * filled from the same synthetic dataset, batches of the bench's shape mined back to back with
 * {@link JobMiner}, on the threads the service's step uses. What the service's step is compared
 * with: {@code MiningStepBenchmark} measures the same step in JMH, but in another process and
 * another hour, and the host's speed moves by more than the bound between the two.
 *
 * <p>The first half of the given time fills the memory and lets the JIT compile the step; the step
 * is timed over the second half (the step's own clock, as {@code mining_ms} in the service), back to
 * back, or paced: one step every {@code interval}, the threads idle in between, as the service's
 * step is at a fixed offered rate below its capacity. On a virtual machine the step after an idle
 * gap runs slower (its CPUs' clocks and caches go cold), so the paced step is what the service's
 * step at that rate meets without any of the service's work beside it. The memory is kept warm
 * between steps as the service's is ({@code memory.keep-warm}).
 */
final class StepAlone {

    /**
     * @param meanMs     the mean step, ms
     * @param steps      steps timed
     * @param memory     entries in the memory at the end (the job's bound once full)
     * @param intervalMs one timed step every this many ms; 0 = back to back
     */
    record Result(double meanMs, long steps, int memory, double intervalMs) {
    }

    private StepAlone() {
    }

    /**
     * Times the step of {@code settings}' job for {@code length}, half of it untimed first (back to
     * back), the timed half one step every {@code interval} on a fixed schedule, as the publishers
     * send (zero: back to back; a step that ends after its successor was due is followed by it at once).
     */
    static Result time(ServiceConfig config, Bench.Settings settings, Duration length, Duration interval) {
        JobSettings job = JobSettings.resolve(config, null);
        MemoryLimits limits = job.boundedBy(config.memoryMaxBytes(), settings.dim());
        MiningSettings mining = job.mining();
        SyntheticEmbeddings data = Bench.dataset(settings, 0);
        // As many distinct samples as the publishers' pools hold: twice the memory, so that it fills.
        SampleBatch[] batches = new SampleBatch[Bench.batchesToFill(settings)];
        for (int b = 0; b < batches.length; b++) {
            batches[b] = data.batch("alone-" + b, 0, 0, data.identities(), settings.batch() / 4, 4);
        }
        try (JobMiner miner = new JobMiner(limits, config.memoryKeepWarm())) {
            long start = System.nanoTime();
            long timedFrom = start + length.toNanos() / 2;
            long end = start + length.toNanos();
            double totalMs = 0;
            long steps = 0;
            long due = timedFrom + interval.toNanos(); // every timed step after a gap, the first too
            for (long i = 0; ; i++) {
                long now = System.nanoTime();
                if (now >= timedFrom && !interval.isZero()) {
                    while ((now = System.nanoTime()) < due) {
                        LockSupport.parkNanos(due - now);
                    }
                    due += interval.toNanos(); // on the publishers' schedule: a late step's successor is due already
                }
                if (now >= end && steps > 0) {
                    break;
                }
                // Steps go up as a trainer's do (memory.max-age-steps counts them).
                SampleBatch batch = batches[(int) (i % batches.length)].asStep("alone-" + i, i);
                double ms = miner.mine(batch, mining).stats().miningMs();
                if (now >= timedFrom) {
                    totalMs += ms;
                    steps++;
                }
            }
            return new Result(totalMs / steps, steps, miner.memory().size(), interval.toNanos() / 1e6);
        }
    }
}
