package dev.hardmine.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.MinedBatch;
import dev.hardmine.client.MinedBatchFilter.Verdict;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.Deserializer;
import org.junit.jupiter.api.Test;

class MinedBatchFilterTest {
    private static final byte[] PAYLOAD = {0};

    /** A batch of which the filter reads the job and the step only. */
    private static MinedBatch batch(String job, long step) {
        MinedBatch batch = new MinedBatch();
        batch.setJobId(job);
        batch.setStep(step);
        return batch;
    }

    /** A record as the consumer hands it over; {@code headerStep} null for none. */
    private static ConsumerRecord<String, MinedBatch> record(String key, MinedBatch value, Long headerStep) {
        RecordHeaders headers = new RecordHeaders();
        if (headerStep != null) {
            headers.add(Topics.STEP_HEADER, Topics.stepHeader(headerStep));
        }
        return new ConsumerRecord<>("mined", 0, 0L, 0L, TimestampType.CREATE_TIME, -1, -1, key, value, headers,
                Optional.empty());
    }

    private static MinedBatchFilter own(long maxStaleness, AtomicLong current) {
        return new MinedBatchFilter("job", Topics.minedKey("job", "w-a"), maxStaleness, current::get);
    }

    private static MinedBatchFilter group(long maxStaleness, AtomicLong current) {
        return new MinedBatchFilter("job", null, maxStaleness, current::get);
    }

    @Test
    void ownModeDeliversTheRecordsOfItsKeyOnly() {
        MinedBatchFilter filter = own(-1, new AtomicLong(100));

        assertThat(filter.verdict(record("job/w-a", batch("job", 1), 1L))).isEqualTo(Verdict.DELIVER);
        assertThat(filter.verdict(record("job/w-b", batch("job", 1), 1L))).isEqualTo(Verdict.ELSEWHERE);
    }

    @Test
    void groupModeDeliversTheBatchesOfItsJobWhateverTheWorker() {
        MinedBatchFilter filter = group(-1, new AtomicLong(100));

        assertThat(filter.verdict(record("job/w-b", batch("job", 1), 1L))).isEqualTo(Verdict.DELIVER);
        assertThat(filter.verdict(record("other/w-a", batch("other", 1), 1L))).isEqualTo(Verdict.ELSEWHERE);
    }

    @Test
    void aBatchMoreThanMaxStalenessBehindTheCurrentStepIsStaleAtTheMomentOfTheVerdict() {
        // 10 steps behind allowed: at step 20, step 10 is 10 behind (kept) and step 9 is 11 behind (stale).
        AtomicLong current = new AtomicLong(20);
        MinedBatchFilter filter = own(10, current);

        assertThat(filter.verdict(record("job/w-a", batch("job", 10), 10L))).isEqualTo(Verdict.DELIVER);
        assertThat(filter.verdict(record("job/w-a", batch("job", 9), 9L))).isEqualTo(Verdict.STALE);
        current.set(21);
        assertThat(filter.verdict(record("job/w-a", batch("job", 10), 10L))).isEqualTo(Verdict.STALE);
    }

    @Test
    void aCurrentStepBelowTheBatchsDropsNothing() {
        MinedBatchFilter filter = own(0, new AtomicLong(-1));

        assertThat(filter.verdict(record("job/w-a", batch("job", 5), 5L))).isEqualTo(Verdict.DELIVER);
    }

    @Test
    void aRecordLeftUndecodedCountsAsStaleOnlyWhenItsKeyIsOfThisWorkerOrJob() {
        MinedBatchFilter own = own(10, new AtomicLong(100));
        MinedBatchFilter group = group(10, new AtomicLong(100));

        assertThat(own.verdict(record("job/w-a", null, 50L))).isEqualTo(Verdict.STALE);
        assertThat(own.verdict(record("job/w-b", null, 50L))).isEqualTo(Verdict.ELSEWHERE);
        assertThat(group.verdict(record("job/w-b", null, 50L))).isEqualTo(Verdict.STALE);
        assertThat(group.verdict(record("jobs/w-b", null, 50L))).isEqualTo(Verdict.ELSEWHERE);
        assertThat(own.verdict(record("job/w-a", null, 95L))).as("a tombstone").isEqualTo(Verdict.ELSEWHERE);
        assertThat(own.verdict(record("job/w-a", null, null))).as("a tombstone").isEqualTo(Verdict.ELSEWHERE);
    }

    @Test
    void theDeserializerDecodesNothingWhoseStepHeaderSaysItIsStale() {
        AtomicLong decoded = new AtomicLong();
        Deserializer<MinedBatch> inner = (topic, data) -> {
            decoded.incrementAndGet();
            return batch("job", 1);
        };
        Deserializer<MinedBatch> skipping = own(10, new AtomicLong(100)).skippingStale(inner);

        assertThat(skipping.deserialize("mined", record("job/w-a", null, 50L).headers(), PAYLOAD)).isNull();
        assertThat(decoded).hasValue(0);
        assertThat(skipping.deserialize("mined", record("job/w-a", null, 95L).headers(), PAYLOAD)).isNotNull();
        assertThat(skipping.deserialize("mined", record("job/w-a", null, null).headers(), PAYLOAD)).isNotNull();
        assertThat(decoded).hasValue(2);
    }
}
