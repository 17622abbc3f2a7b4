package dev.hardmine.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class BackoffTest {

    /** A source of jitter that always draws {@code bound - 1} (the largest cut) and remembers the bounds. */
    private static final class LargestCut implements RandomGenerator {
        final List<Long> bounds = new ArrayList<>();

        @Override
        public long nextLong() {
            throw new UnsupportedOperationException();
        }

        @Override
        public long nextLong(long bound) {
            bounds.add(bound);
            return bound - 1;
        }
    }

    private static final RandomGenerator NO_CUT = new RandomGenerator() {
        @Override
        public long nextLong() {
            throw new UnsupportedOperationException();
        }

        @Override
        public long nextLong(long bound) {
            return 0;
        }
    };

    private static List<Long> millis(Backoff backoff, int retries) {
        List<Long> out = new ArrayList<>();
        for (int retry = 1; retry <= retries; retry++) {
            out.add(backoff.delay(retry).toMillis());
        }
        return out;
    }

    @Test
    void aDoublingBackoffDoublesFromItsInitialWaitUpToItsMax() {
        Backoff backoff = Backoff.doubling(Duration.ofMillis(100), Duration.ofSeconds(5));

        assertThat(millis(backoff, 9)).containsExactly(100L, 200L, 400L, 800L, 1600L, 3200L, 5000L, 5000L, 5000L);
    }

    @Test
    void aFixedBackoffWaitsTheSameBeforeEveryRetry() {
        Backoff backoff = Backoff.fixed(Duration.ofSeconds(2));

        assertThat(millis(backoff, 4)).containsExactly(2000L, 2000L, 2000L, 2000L);
    }

    @Test
    void theWaitStaysAtMaxHoweverManyRetriesFailed() {
        Backoff backoff = Backoff.doubling(Duration.ofMillis(1), Duration.ofMinutes(1));

        assertThat(backoff.delay(64).toMillis()).isEqualTo(60_000);
        assertThat(backoff.delay(Integer.MAX_VALUE).toMillis()).isEqualTo(60_000);
    }

    @Test
    void jitterTakesOffAtMostItsFractionOfTheWait() {
        // 1 s doubled twice is 4 s; a jitter of 0.2 takes off 0 to 800 ms.
        Backoff backoff = Backoff.doubling(Duration.ofSeconds(1), Duration.ofSeconds(20)).withJitter(0.2);

        assertThat(backoff.delay(3, NO_CUT).toMillis()).isEqualTo(4000);
        assertThat(backoff.delay(3, new LargestCut()).toMillis()).isEqualTo(3200);
        for (int i = 0; i < 1000; i++) {
            assertThat(backoff.delay(3).toMillis()).isBetween(3200L, 4000L);
        }
    }

    @Test
    void aFifthOfJitterDrawsTheCutBelowAFifthOfTheWaitPlusOne() {
        // The registry client's former rule: a cut drawn uniformly from [0, wait / 5] in whole milliseconds.
        for (long wait = 1; wait <= 20_000; wait++) {
            LargestCut random = new LargestCut();
            new Backoff(Duration.ofMillis(wait), Duration.ofMillis(wait), 2, 0.2).delay(1, random);
            assertThat(random.bounds).as("wait %d ms", wait).containsExactly(wait / 5 + 1);
        }
    }

    @Test
    void aZeroWaitDrawsNoJitter() {
        LargestCut random = new LargestCut();

        assertThat(new Backoff(Duration.ZERO, Duration.ZERO, 2, 0.5).delay(3, random)).isZero();
        assertThat(random.bounds).isEmpty();
    }

    @Test
    void retriesAreCountedFromOne() {
        assertThatThrownBy(() -> Backoff.fixed(Duration.ofSeconds(1)).delay(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("from 1");
    }

    @Test
    void aBackoffRefusesAMaxBelowItsInitialWaitAMultiplierBelowOneAndAJitterOfOneOrMore() {
        assertThatThrownBy(() -> Backoff.doubling(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("initial <= max");
        assertThatThrownBy(() -> Backoff.doubling(Duration.ofMillis(-1), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0 <= initial");
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ZERO, 0.5, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiplier");
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ZERO, Double.NaN, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiplier");
        assertThatThrownBy(() -> Backoff.fixed(Duration.ZERO).withJitter(1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("jitter");
    }
}
