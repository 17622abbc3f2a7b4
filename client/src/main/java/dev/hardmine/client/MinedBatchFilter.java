package dev.hardmine.client;

import dev.hardmine.avro.MinedBatch;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Which records of the mined topic a {@link MinedBatchSubscriber} delivers: those of its worker
 * (own mode, by key) or of its job (group mode, by the batch's job id), unless stale — more than
 * {@code maxStalenessSteps} behind the current step, read at the moment of the decision.
 */
final class MinedBatchFilter {
    /** What becomes of a record. */
    enum Verdict {
        /** Delivered to the trainer. */
        DELIVER,
        /** This worker's or job's, but too old: dropped and counted. */
        STALE,
        /** Another worker's or job's (or a tombstone): passed over. */
        ELSEWHERE
    }

    private final String jobId;
    /** {@code <job>/<worker>} in own mode, null in group mode. */
    private final String ownKey;
    /** Negative: no batch is stale. */
    private final long maxStalenessSteps;
    private final LongSupplier currentStep;

    MinedBatchFilter(String jobId, String ownKey, long maxStalenessSteps, LongSupplier currentStep) {
        this.jobId = jobId;
        this.ownKey = ownKey;
        this.maxStalenessSteps = maxStalenessSteps;
        this.currentStep = currentStep;
    }

    /**
     * The verdict on a polled record; a null value is one {@link #skippingStale} left undecoded, or a
     * tombstone.
     */
    Verdict verdict(ConsumerRecord<String, MinedBatch> record) {
        MinedBatch batch = record.value();
        if (batch == null) {
            return staleByHeader(record.headers()) && belongsHere(record.key()) ? Verdict.STALE : Verdict.ELSEWHERE;
        }
        if (!(ownKey != null ? ownKey.equals(record.key()) : jobId.equals(batch.getJobId()))) {
            return Verdict.ELSEWHERE;
        }
        return isStale(batch.getStep()) ? Verdict.STALE : Verdict.DELIVER;
    }

    /** By its key alone: this worker's key, or any key of this job ({@code job_id/worker_id}). */
    private boolean belongsHere(String key) {
        return key != null && (ownKey != null ? ownKey.equals(key) : key.startsWith(jobId + "/"));
    }

    private boolean staleByHeader(Headers headers) {
        Header h = headers.lastHeader(Topics.STEP_HEADER);
        Long step = h == null ? null : Topics.stepOf(h.value());
        return step != null && isStale(step);
    }

    private boolean isStale(long step) {
        if (maxStalenessSteps < 0) {
            return false;
        }
        long current = currentStep.getAsLong();
        return current > step && current - step > maxStalenessSteps;
    }

    /**
     * {@code inner}, except that a record whose {@link Topics#STEP_HEADER} says it is stale is left
     * undecoded (null): under a backlog most records are, and a mined batch with memory samples is
     * hundreds of kilobytes.
     */
    Deserializer<MinedBatch> skippingStale(Deserializer<MinedBatch> inner) {
        return new StaleSkipping(inner);
    }

    private final class StaleSkipping implements Deserializer<MinedBatch> {
        private final Deserializer<MinedBatch> inner;

        StaleSkipping(Deserializer<MinedBatch> inner) {
            this.inner = inner;
        }

        @Override
        public MinedBatch deserialize(String topic, byte[] data) {
            return inner.deserialize(topic, data);
        }

        @Override
        public MinedBatch deserialize(String topic, Headers headers, byte[] data) {
            return staleByHeader(headers) ? null : inner.deserialize(topic, headers, data);
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
