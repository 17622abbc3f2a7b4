package dev.hardmine.mining;

/**
 * Which memory samples are sent back with each mined batch, so that a trainer can use them as
 * constant extra negatives (and positives) in its loss, as cross-batch memory (XBM) does inside
 * one trainer — here from the job's memory shared by all its workers.
 *
 * <p>Per anchor of the batch: its {@code negatives} nearest memory samples of another label
 * (nearest first, ties to the one that entered the memory first) and its {@code positives}
 * farthest memory samples of its own label other than itself (farthest first, same ties). The
 * batch's selection is taken round-robin by rank — every anchor's first, then every anchor's
 * second, …, anchors in batch order and an anchor's negative before its positive — each sample
 * once, and stops before the first sample that would take the batch over {@code maxBytes},
 * counted as {@link #bytesOf}. Rank order keeps a bounded selection fair to every anchor.
 *
 * @param negatives nearest negatives per anchor; 0 = none
 * @param positives farthest positives per anchor; 0 = none
 * @param maxBytes  bound on the samples' bytes per mined batch (&gt; 0)
 */
public record MemorySampling(int negatives, int positives, int maxBytes) {
    public static final int DEFAULT_MAX_BYTES = 256 * 1024;
    /** Nothing sent back: the default, so that mined batches stay small unless a job asks. */
    public static final MemorySampling NONE = new MemorySampling(0, 0, DEFAULT_MAX_BYTES);

    public MemorySampling {
        if (negatives < 0) {
            throw new IllegalArgumentException("mining.memory-negatives must be >= 0, got " + negatives);
        }
        if (positives < 0) {
            throw new IllegalArgumentException("mining.memory-positives must be >= 0, got " + positives);
        }
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("mining.memory-samples-max-bytes must be > 0, got " + maxBytes);
        }
    }

    public boolean enabled() {
        return negatives > 0 || positives > 0;
    }

    /**
     * What one sample counts against {@code maxBytes}: its embedding (4 bytes a value), the UTF-8
     * bytes of its id and label, and 8 for its step — about its size in the Avro record.
     */
    public static long bytesOf(int dim, String sampleId, String label) {
        return 4L * dim + utf8Length(sampleId) + utf8Length(label) + 8;
    }

    private static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
