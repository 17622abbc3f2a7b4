package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.SharedKafkaBroker;
import dev.hardmine.testing.SyntheticLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two instances of one application share the jobs, partition by partition; when one stops, the
 * other takes its jobs over with their memory, and the trainers see every batch mined once.
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(90)
class SharedWorkIntegrationTest {
    private static final int ROUND = 4;

    private LiveMining live;

    @BeforeEach
    void slice(LiveMining live) {
        this.live = live; // closed by the extension when the test ends
    }

    @Test
    void twoInstancesMineDisjointJobsAndTheSurvivorTakesOverWithTheMemory() {
        // Two jobs whose batches (keyed by job_id) land on different partitions of the two.
        String jobA = jobOnPartition(0);
        String jobB = jobOnPartition(1);
        List<EmbeddingBatch> log = new ArrayList<>();
        for (EmbeddingBatch b : SyntheticLog.batches(51, 4 * ROUND, 4, 3, 8)) {
            boolean a = b.getJobId().equals("job-0");
            log.add(EmbeddingBatch.newBuilder(b).setJobId(a ? jobA : jobB).setWorkerId(a ? "wa" : "wb").build());
        }

        Properties first = live.properties("memory.per-identity", "0");
        Properties second = new Properties();
        second.putAll(first);
        second.setProperty("kafka.state.dir", live.newStateDir().toString());
        MinerService one = live.start(first);
        MinerService two = live.start(second);
        await().atMost(LiveMining.TIMEOUT).until(() -> running(one, two)
                && activeInputPartitions(one).size() == 1 && activeInputPartitions(two).size() == 1);
        // Each job is mined by exactly one instance: its partition's task is active on one of them.
        assertThat(activeInputPartitions(one)).doesNotContainAnyElementsOf(activeInputPartitions(two));

        log.subList(0, 2 * ROUND).forEach(live::send);
        assertThat(live.awaitMined(2 * ROUND)).hasSize(2 * ROUND);

        // The first instance stops; the second takes over the partition, and the memory with it.
        one.close();
        await().atMost(LiveMining.TIMEOUT).until(() -> running(two) && activeInputPartitions(two).size() == 2);
        log.subList(2 * ROUND, log.size()).forEach(live::send);
        List<ConsumerRecord<String, MinedBatch>> out = live.awaitMined(log.size());
        assertThat(live.countMoreWithin(live.topics().mined(), Duration.ofSeconds(1))).isZero();

        for (String job : List.of(jobA, jobB)) {
            List<EmbeddingBatch> in = log.stream().filter(b -> b.getJobId().equals(job)).toList();
            // One worker per job: its mined batches share a key, hence a partition, hence an order.
            List<MinedBatch> mined = out.stream().filter(r -> r.value().getJobId().equals(job))
                    .map(ConsumerRecord::value).toList();
            assertThat(mined).extracting(MinedBatch::getBatchId)
                    .containsExactlyElementsOf(in.stream().map(EmbeddingBatch::getBatchId).toList());
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < in.size(); i++) {
                in.get(i).getSamples().forEach(s -> seen.add(s.getSampleId()));
                assertThat(mined.get(i).getStats().getMemorySize()).as("%s after batch %d", job, i)
                        .isEqualTo(seen.size());
            }
        }
    }

    private static String jobOnPartition(int partition) {
        for (int i = 0; i < 100; i++) {
            if (LiveMining.partitionOf("job-" + i, 2) == partition) {
                return "job-" + i;
            }
        }
        throw new IllegalStateException("no job id of the first 100 lands on partition " + partition);
    }

    private static boolean running(MinerService... services) {
        for (MinerService s : services) {
            if (s.streams().state() != KafkaStreams.State.RUNNING) {
                return false;
            }
        }
        return true;
    }

    /** The partitions of the embeddings topic whose tasks run active on this instance. */
    private Set<Integer> activeInputPartitions(MinerService service) {
        Set<Integer> out = new HashSet<>();
        service.streams().metadataForLocalThreads().forEach(thread -> thread.activeTasks().forEach(task -> {
            for (TopicPartition tp : task.topicPartitions()) {
                if (tp.topic().equals(live.topics().embeddings())) {
                    out.add(tp.partition());
                }
            }
        }));
        return out;
    }
}
