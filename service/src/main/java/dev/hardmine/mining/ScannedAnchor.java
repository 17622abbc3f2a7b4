package dev.hardmine.mining;

import java.util.function.Supplier;

/**
 * One anchor as {@link AnchorScan} leaves it, read-only: what a {@link TripletSelector} chooses its
 * triplets from. Slots index the memory ({@link #memory()}); distances are the job's distance, as
 * float. Valid only during {@link TripletSelector#select}: the scan reuses its arrays for the next
 * anchor.
 *
 * <p>Invariants: the distance of every same-label entry (the anchor itself included) is +∞, so
 * the finite distances are exactly N(a); positives P(a) are listed in insertion order; the
 * candidates are every negative within the scan's collection bound (the semi-hard bound of the
 * hardest positive, or every negative when the selector {@link TripletSelector#collectsAllNegatives
 * collects all}), sorted by (distance, insertion order). Every negative outside the candidates is
 * easy for every positive.
 */
interface ScannedAnchor {

    MemoryBank memory();

    /** The memory slots scanned: {@link #distance} is defined for {@code 0 … slots)}. */
    int slots();

    /** The anchor's distance to the entry in {@code slot}; +∞ for entries of the anchor's label. */
    float distance(int slot);

    String batchId();

    String anchorId();

    /** The anchor's index in its batch. */
    int anchorIndex();

    float margin();

    int positiveCount();

    /** The slot of the {@code k}-th positive, in insertion order. */
    int positiveSlot(int k);

    float positiveDistance(int k);

    /** The index, among the positives, of the farthest one; the earlier inserted on ties. */
    int hardestPositive();

    /** The nearest negative's slot, the earlier inserted on ties. */
    int nearestNegativeSlot();

    float nearestNegativeDistance();

    int candidateCount();

    /** The slot of the {@code c}-th candidate by (distance, insertion order). */
    int candidateSlot(int c);

    float candidateDistance(int c);

    /** The number of candidates at distance ≤ {@code d}. */
    int countAtMost(float d);

    /** The triplet of this anchor with the given positive and negative. */
    MinedTriplet triplet(int positiveSlot, float dAp, int negativeSlot, float dAn);

    /**
     * A selector's scratch, kept with the scan from anchor to anchor and from batch to batch: the
     * instance of {@code kind} kept last, or a new one from {@code make} when none of that kind is.
     * A selector is made per batch and its anchors run on several threads, so it keeps no scratch of
     * its own; one scan serves one thread at a time.
     */
    <T> T scratch(Class<T> kind, Supplier<T> make);
}
