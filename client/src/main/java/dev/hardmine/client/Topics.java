package dev.hardmine.client;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The names of hardmine's topics, in one place. Keys are plain UTF-8 strings; values Avro in the
 * Confluent wire format.
 *
 * @param embeddings EmbeddingBatch in, key job_id
 * @param mined      MinedBatch out, key {@code job_id/worker_id} (see {@link #minedKey})
 * @param stats      MiningStats out, key job_id
 * @param dlq        bad input, unchanged, with reason headers
 * @param jobs       JobConfig per job, compacted, key job_id
 * @param neighbors  IdentityNeighbors out, compacted, key {@code job_id/label} (see {@link #neighborsKey})
 */
public record Topics(String embeddings, String mined, String stats, String dlq, String jobs, String neighbors) {

    /**
     * A header of every MinedBatch record: the batch's {@code step} as 8 bytes, big-endian. A
     * trainer that only wants recent results reads it and skips a stale record without decoding
     * its value.
     */
    public static final String STEP_HEADER = "hardmine.step";

    /** The value of {@link #STEP_HEADER}. */
    public static byte[] stepHeader(long step) {
        return ByteBuffer.allocate(Long.BYTES).putLong(step).array();
    }

    /** The step in a {@link #STEP_HEADER} value, or null when it is not 8 bytes. */
    public static Long stepOf(byte[] header) {
        return header == null || header.length != Long.BYTES ? null : ByteBuffer.wrap(header).getLong();
    }

    public static Topics withPrefix(String prefix) {
        return new Topics(prefix + "embeddings", prefix + "mined", prefix + "stats", prefix + "dlq", prefix + "jobs",
                prefix + "neighbors");
    }

    public List<String> all() {
        return List.of(embeddings, mined, stats, dlq, jobs, neighbors);
    }

    /** The key of an IdentityNeighbors record: {@code job_id + "/" + label}. */
    public static String neighborsKey(String jobId, String label) {
        return jobId + "/" + label;
    }

    /**
     * The key of a MinedBatch: {@code job_id + "/" + worker_id}. All batches mined from one worker's
     * input land in one partition (the one Kafka's default partitioner gives this key), so a worker
     * can read that partition alone; a consumer group over the topic shares all jobs' batches.
     */
    public static String minedKey(String jobId, String workerId) {
        return jobId + "/" + workerId;
    }
}
