package dev.hardmine.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.NeighborSettings;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Synthetic trainers told to publish with no pause at all still wait for their results: each
 * worker has at most {@code maxInFlight} batches awaiting a mined result, so the demo's trainers
 * cannot bury the miner they feed under a backlog, and mining goes on.
 */
class SyntheticTrainersPaceTest {

    @Test
    void trainersWithoutAPauseKeepAtMostMaxInFlightBatchesAwaitingResults() throws Exception {
        int workers = 3;
        int maxInFlight = 2;
        Demo.Settings settings = new Demo.Settings(0, 0, 0, "127.0.0.1", null, true,
                new SyntheticTrainers.Settings("demo-job", workers, 8, 4, 8, Duration.ZERO, 3, maxInFlight), 1,
                300, 6, 32, 80, MiningSettings.defaults(), MemoryLimits.defaults(), NeighborSettings.OFF, null, null);
        try (Demo demo = Demo.start(settings)) {
            SyntheticTrainers trainers = demo.trainers().get(0);
            long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
            long maxAwaiting = 0;
            while (System.nanoTime() < deadline) {
                long received = trainers.minedReceived();
                long published = trainers.published();
                maxAwaiting = Math.max(maxAwaiting, published - received);
                Thread.sleep(20);
            }
            // Between the two reads each worker may have received one more result and published again.
            assertThat(maxAwaiting).isLessThanOrEqualTo((long) workers * maxInFlight + workers);
            assertThat(trainers.minedReceived()).as("batches mined and received back").isGreaterThan(20);
        }
    }
}
