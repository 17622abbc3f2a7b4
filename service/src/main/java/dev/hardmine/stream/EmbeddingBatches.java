package dev.hardmine.stream;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.Sample;
import dev.hardmine.mining.Embeddings;
import dev.hardmine.mining.InvalidBatchException;
import dev.hardmine.mining.SampleBatch;
import java.nio.ByteBuffer;
import java.util.List;

/** Turns the wire record into the miner's primitive form, checking the contract on the way. */
public final class EmbeddingBatches {
    private EmbeddingBatches() {
    }

    /**
     * Checks that a record of the embeddings topic is keyed by its batch's job_id, as the contract
     * says: the key chooses the partition, and a job's batches must all reach the one task that
     * holds the job's memory (another key, or none, could send them to another task, with a memory
     * of its own).
     *
     * @throws InvalidBatchException {@code key-mismatch} otherwise
     */
    public static void checkKey(String key, EmbeddingBatch batch) {
        if (!batch.getJobId().equals(key)) {
            throw new InvalidBatchException(InvalidBatchException.KEY_MISMATCH, keyMismatch(key, batch.getJobId()));
        }
    }

    /** What is wrong with a record keyed {@code key} whose job_id is {@code jobId}: a batch's or a JobConfig's. */
    static String keyMismatch(String key, String jobId) {
        return key == null ? "the record has no key; it must be the job_id " + quoted(jobId)
                : "the record's key " + quoted(key) + " is not the job_id " + quoted(jobId);
    }

    private static void checkLength(String what, String value, InputLimits limits) {
        if (value != null && value.length() > limits.maxIdLength()) {
            throw new InvalidBatchException(InvalidBatchException.ID_TOO_LONG, what + " has " + value.length()
                    + " characters, more than the limit of " + limits.maxIdLength() + ": " + quoted(value));
        }
    }

    private static String quoted(String s) {
        return "'" + (s.length() > 100 ? s.substring(0, 100) + "…" : s) + "'";
    }

    /**
     * Decodes and validates one batch.
     *
     * @throws InvalidBatchException with the reason code of the first violation found
     */
    public static SampleBatch toSampleBatch(EmbeddingBatch batch, InputLimits limits) {
        if (batch.getJobId() == null || batch.getJobId().isEmpty()) {
            throw new InvalidBatchException(InvalidBatchException.EMPTY_ID, "job_id is empty");
        }
        checkLength("job_id", batch.getJobId(), limits);
        checkLength("worker_id", batch.getWorkerId(), limits);
        checkLength("batch_id", batch.getBatchId(), limits);
        int dim = batch.getDim();
        if (dim <= 0) {
            throw new InvalidBatchException(InvalidBatchException.BAD_DIM, "dim must be > 0, got " + dim);
        }
        if (dim > limits.maxDim()) {
            throw new InvalidBatchException(InvalidBatchException.DIM_TOO_LARGE,
                    "dim " + dim + " exceeds the limit of " + limits.maxDim());
        }
        List<Sample> samples = batch.getSamples();
        int n = samples.size();
        if (n > limits.maxBatchSize()) {
            throw new InvalidBatchException(InvalidBatchException.BATCH_TOO_LARGE,
                    n + " samples exceed the limit of " + limits.maxBatchSize());
        }
        String[] ids = new String[n];
        String[] labels = new String[n];
        float[] embeddings = new float[n * dim];
        for (int i = 0; i < n; i++) {
            Sample s = samples.get(i);
            ids[i] = s.getSampleId();
            labels[i] = s.getLabel();
            checkLength("sample " + i + "'s sample_id", ids[i], limits);
            checkLength("sample " + i + "'s label", labels[i], limits);
            ByteBuffer bytes = s.getEmbedding();
            if (bytes.remaining() != 4 * dim) {
                throw new InvalidBatchException(InvalidBatchException.EMBEDDING_LENGTH, "sample " + i + " ("
                        + ids[i] + ") has " + bytes.remaining() + " embedding bytes, expected 4 x dim = " + 4 * dim);
            }
            Embeddings.decodeLittleEndian(bytes, embeddings, i * dim, dim);
        }
        return new SampleBatch(batch.getBatchId(), batch.getWorkerId(), batch.getStep(), dim, ids, labels, embeddings);
    }
}
