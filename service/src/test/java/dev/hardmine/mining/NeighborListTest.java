package dev.hardmine.mining;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class NeighborListTest {
    private static final NeighborSettings HALF_LIFE_10 = new NeighborSettings(8, 10);

    private static List<String> describe(List<NeighborList.Neighbor> top) {
        return top.stream().map(n -> n.label() + " " + n.count() + " " + n.lastStep()).toList();
    }

    @Test
    void scoresDecayByHalfEveryHalfLifeAndEachEventAddsOne() {
        NeighborList list = NeighborList.empty();
        list.record("B", 0, HALF_LIFE_10);
        list.record("B", 10, HALF_LIFE_10);
        list.record("C", 10, HALF_LIFE_10);
        list.record("C", 20, HALF_LIFE_10);

        // At step 20: B = (1 · ½ + 1) · ½ = 0.75; C = 1 · ½ + 1 = 1.5.
        List<NeighborList.Neighbor> top = list.top(HALF_LIFE_10);
        assertThat(list.step()).isEqualTo(20);
        assertThat(describe(top)).containsExactly("C 2 20", "B 2 10");
        assertThat(top.get(0).score()).isCloseTo(1.5, within(1e-12));
        assertThat(top.get(1).score()).isCloseTo(0.75, within(1e-12));
    }

    @Test
    void anEventOlderThanANeighboursLastOneIsAddedDecayed() {
        NeighborList list = NeighborList.empty();
        list.record("B", 10, HALF_LIFE_10);
        list.record("B", 0, HALF_LIFE_10); // a slower worker's batch: counts 2^(-10/10) = ½ at step 10
        list.record("D", 5, HALF_LIFE_10);

        List<NeighborList.Neighbor> top = list.top(HALF_LIFE_10);
        assertThat(describe(top)).containsExactly("B 2 10", "D 1 5");
        assertThat(top.get(0).score()).isCloseTo(1.5, within(1e-12));
        assertThat(top.get(1).score()).isCloseTo(Math.pow(2, -0.5), within(1e-12));
    }

    @Test
    void pastTheBoundTheLowestScoreAtTheNewestStepLeaves() {
        NeighborSettings two = new NeighborSettings(2, 10);
        NeighborList list = NeighborList.empty();
        list.record("B", 0, two);
        list.record("C", 10, two);
        list.record("D", 20, two); // at step 20: B 0.25, C 0.5, D 1 — B leaves
        assertThat(describe(list.top(two))).containsExactly("D 1 20", "C 1 10");
        assertThat(list.entries()).hasSize(2);
    }

    @Test
    void amongEqualScoresTheLaterLabelLeavesAndTheEarlierComesFirst() {
        NeighborSettings one = new NeighborSettings(1, 10);
        NeighborList list = NeighborList.empty();
        list.record("C", 3, one);
        list.record("B", 3, one);
        assertThat(describe(list.top(one))).containsExactly("B 1 3");

        NeighborList both = NeighborList.empty();
        both.record("C", 3, HALF_LIFE_10);
        both.record("B", 3, HALF_LIFE_10);
        assertThat(describe(both.top(HALF_LIFE_10))).containsExactly("B 1 3", "C 1 3");
    }

    @Test
    void aRestoredListContinuesExactlyAsTheOriginal() {
        NeighborList original = NeighborList.empty();
        original.record("B", 1, HALF_LIFE_10);
        original.record("C", 4, HALF_LIFE_10);
        NeighborList restored = new NeighborList(original.step(), original.entries());
        original.record("B", 9, HALF_LIFE_10);
        restored.record("B", 9, HALF_LIFE_10);
        assertThat(restored.top(HALF_LIFE_10)).isEqualTo(original.top(HALF_LIFE_10));
    }
}
