package dev.hardmine.mining.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class InsertionOrderTest {
    /** Random adds and removals against a TreeMap, through many compactions and growths. */
    @Test
    void keepsTheSameOrderAsASortedMap() {
        SplittableRandom random = new SplittableRandom(11);
        InsertionOrder order = new InsertionOrder(4);
        TreeMap<Long, String> expected = new TreeMap<>();
        long seq = 0;
        for (int step = 0; step < 20_000; step++) {
            // Phases that grow, shrink and churn, so both compaction kinds happen.
            int phase = (step / 2_000) % 3;
            boolean add = expected.isEmpty() || random.nextInt(10) < (phase == 0 ? 8 : phase == 1 ? 2 : 5);
            if (add) {
                seq += 1 + random.nextInt(3);
                order.add(seq, "id-" + seq);
                expected.put(seq, "id-" + seq);
            } else {
                // Mostly old entries, as evictions take them, sometimes any.
                List<Long> keys = new ArrayList<>(expected.keySet());
                long victim = random.nextInt(4) == 0 ? keys.get(random.nextInt(keys.size()))
                        : keys.get(random.nextInt(Math.min(3, keys.size())));
                order.remove(victim);
                expected.remove(victim);
            }
            assertThat(order.size()).isEqualTo(expected.size());
            if (!expected.isEmpty()) {
                assertThat(order.firstSeq()).isEqualTo(expected.firstKey());
                assertThat(order.firstId()).isEqualTo(expected.firstEntry().getValue());
            }
            if (step % 500 == 0) {
                assertThat(order.ids()).containsExactlyElementsOf(expected.values());
            }
        }
        assertThat(order.ids()).containsExactlyElementsOf(expected.values());
    }

    @Test
    void refusesEntriesOutOfOrderAndUnknownRemovals() {
        InsertionOrder order = new InsertionOrder(4);
        order.add(5, "a");
        assertThatThrownBy(() -> order.add(5, "b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("insertion order");
        assertThatThrownBy(() -> order.add(3, "b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> order.remove(4)).isInstanceOf(NoSuchElementException.class);
        order.remove(5);
        assertThatThrownBy(() -> order.remove(5)).isInstanceOf(NoSuchElementException.class);
        assertThat(order.isEmpty()).isTrue();
        assertThatThrownBy(order::firstSeq).isInstanceOf(NoSuchElementException.class);
        // A removed entry's number stays taken: insertion numbers only grow.
        assertThatThrownBy(() -> order.add(5, "c")).isInstanceOf(IllegalArgumentException.class);
        order.add(6, "c");
        assertThat(order.ids()).containsExactly("c");
    }
}
