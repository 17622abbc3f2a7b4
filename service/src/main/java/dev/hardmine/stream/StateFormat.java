package dev.hardmine.stream;

import java.nio.ByteBuffer;

/**
 * The format version at the head of every value hardmine writes to a state store and its changelog
 * (docs/DESIGN.md, "State formats"): one byte, so that a later layout can be told from this one and
 * a deployment restores what an older version of hardmine wrote.
 *
 * <p>Memory, stats and job-dims values were first written without a version. Each of those layouts
 * begins with a non-negative big-endian number far below 2<sup>56</sup> (an insertion number, a
 * batch count, a dimension), so its first byte is 0: a first byte of 0 reads as {@link #UNVERSIONED},
 * and no versioned layout uses 0. A version newer than the reader's is an error, never a misreading.
 */
final class StateFormat {
    /** The version of the values written before values carried one: the layout starts at byte 0. */
    static final byte UNVERSIONED = 0;

    private StateFormat() {
    }

    /**
     * Reads the version of the value at the buffer's position and leaves the buffer at the layout
     * that follows: after the version byte, or where it was for an unversioned value.
     *
     * @param store  the store's name, for the error
     * @param oldest the oldest version the reader knows ({@link #UNVERSIONED} when it reads those)
     * @param newest the version the reader writes
     * @throws IllegalStateException when the version is not one the reader knows
     */
    static byte read(ByteBuffer value, String store, byte oldest, byte newest) {
        byte version = value.get(value.position());
        if (version < oldest || version > newest) {
            throw new IllegalStateException(store + " store entry of format version " + version
                    + "; this version of hardmine reads versions " + oldest + " to " + newest);
        }
        if (version != UNVERSIONED) {
            value.get();
        }
        return version;
    }
}
