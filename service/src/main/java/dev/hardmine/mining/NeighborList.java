package dev.hardmine.mining;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The identities most confusable with one identity: each confusion event (one of its anchors
 * mined with a negative of the other identity) adds 1 to that identity's score, and scores decay
 * by training step, {@code score(t) = Σ 2^(-(t - event step) / half-life)}.
 *
 * <p>Each neighbour keeps its score as of its own newest event; an event older than that (a
 * slower worker's batch) is added decayed, so the result does not depend on which of two
 * workers' batches came first beyond float rounding, and is exactly the same for the same order.
 * At most {@code perIdentity} neighbours are kept: past that, the one with the lowest score at
 * the identity's newest step leaves (ties: the later label in string order).
 *
 * <p>Not thread-safe.
 */
public final class NeighborList {
    /** One neighbour: its score as of {@code lastStep}, its undecayed event count. */
    public record Neighbor(String label, double score, long count, long lastStep) {
    }

    private long step;
    private final List<Neighbor> entries;

    /** A list restored as it was saved: {@code step} and the entries of {@link #entries()}. */
    public NeighborList(long step, List<Neighbor> entries) {
        this.step = step;
        this.entries = new ArrayList<>(entries);
    }

    public static NeighborList empty() {
        return new NeighborList(Long.MIN_VALUE, List.of());
    }

    /** The newest step of the identity's confusion events, {@code Long.MIN_VALUE} before the first. */
    public long step() {
        return step;
    }

    /** The stored entries (scores as of each one's own last step), in no particular order: for persistence. */
    public List<Neighbor> entries() {
        return List.copyOf(entries);
    }

    /** Counts one confusion event with {@code neighbor} at {@code eventStep}. */
    public void record(String neighbor, long eventStep, NeighborSettings settings) {
        step = Math.max(step, eventStep);
        int i = indexOf(neighbor);
        if (i < 0) {
            entries.add(new Neighbor(neighbor, 1.0, 1, eventStep));
        } else {
            Neighbor e = entries.get(i);
            entries.set(i, eventStep >= e.lastStep()
                    ? new Neighbor(neighbor, e.score() * settings.decay(eventStep - e.lastStep()) + 1.0, e.count() + 1,
                            eventStep)
                    : new Neighbor(neighbor, e.score() + settings.decay(e.lastStep() - eventStep), e.count() + 1,
                            e.lastStep()));
        }
        if (entries.size() > settings.perIdentity()) {
            entries.remove(entries.stream().max(order(settings)).orElseThrow());
        }
    }

    /** The neighbours with their scores decayed to {@link #step()}, highest first (ties: label order). */
    public List<Neighbor> top(NeighborSettings settings) {
        return entries.stream()
                .map(e -> new Neighbor(e.label(), decayed(e, settings), e.count(), e.lastStep()))
                .sorted(Comparator.comparingDouble(Neighbor::score).reversed().thenComparing(Neighbor::label))
                .toList();
    }

    /** Highest score at {@link #step()} first, ties in label order: the last one leaves first. */
    private Comparator<Neighbor> order(NeighborSettings settings) {
        return Comparator.<Neighbor>comparingDouble(e -> -decayed(e, settings)).thenComparing(Neighbor::label);
    }

    private double decayed(Neighbor e, NeighborSettings settings) {
        return e.score() * settings.decay(step - e.lastStep());
    }

    private int indexOf(String label) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).label().equals(label)) {
                return i;
            }
        }
        return -1;
    }
}
