package dev.hardmine.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.MemorySample;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.Neighbor;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.client.Topics;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.SharedKafkaBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trainers publish with {@link EmbeddingPublisher}, hardmine mines (a real service on the shared
 * broker, the embedded registry over HTTP), and {@link MinedBatchSubscriber} brings the mined
 * batches back. Each test has a job of its own.
 */
@ExtendWith(SharedKafkaBroker.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class MinedBatchSubscriberTest {
    private static final Duration WAIT = LiveMining.TIMEOUT;

    private final EmbeddedKafkaBroker kafka;
    private EmbeddedSchemaRegistry registry;
    private LiveMining live;

    MinedBatchSubscriberTest(EmbeddedKafkaBroker kafka) {
        this.kafka = kafka;
    }

    @BeforeAll
    void startTheMiner(@TempDir Path tmp) {
        registry = EmbeddedSchemaRegistry.builder().kafka(kafka.bootstrapServers())
                .topic("_schemas-subscriber-" + UUID.randomUUID()).start();
        live = new LiveMining(kafka, registry.url(), tmp);
        live.start(live.properties());
    }

    @AfterAll
    void stopTheMiner() {
        live.close();
        registry.close();
    }

    private EmbeddingPublisher publisher(String job, String worker) {
        return EmbeddingPublisher.builder().bootstrapServers(kafka.bootstrapServers()).registryUrl(registry.url())
                .topic(live.topics().embeddings()).jobId(job).workerId(worker).build();
    }

    private MinedBatchSubscriber.Builder subscriber(String job) {
        return MinedBatchSubscriber.builder().bootstrapServers(kafka.bootstrapServers()).registryUrl(registry.url())
                .topic(live.topics().mined()).jobId(job);
    }

    /** Two identities × two samples, 2-d embeddings that move with the step. */
    private static void publish(EmbeddingPublisher publisher, long step) {
        String prefix = publisher.workerId() + "-s" + step + "-";
        float s = step * 0.01f;
        publisher.publish(step, List.of(prefix + 0, prefix + 1, prefix + 2, prefix + 3), List.of("a", "a", "b", "b"),
                new float[][] {{0f, s}, {1f, s}, {0.5f, 1 + s}, {2f, 1 + s}});
    }

    /** Polls until {@code count} batches were delivered or dropped as stale; returns those delivered. */
    private static List<MinedBatch> pollUntilDeliveredOrDropped(MinedBatchSubscriber subscriber, int count) {
        List<MinedBatch> out = new ArrayList<>();
        await().atMost(WAIT).until(() -> {
            out.addAll(subscriber.poll(Duration.ofMillis(100)));
            return out.size() + subscriber.droppedStale() >= count;
        });
        return out;
    }

    private static List<MinedBatch> pollUntil(MinedBatchSubscriber subscriber, int count) {
        List<MinedBatch> out = new ArrayList<>();
        await().atMost(WAIT).until(() -> {
            out.addAll(subscriber.poll(Duration.ofMillis(100)));
            return out.size() >= count;
        });
        return out;
    }

    @Test
    void ownModeDeliversTheBatchesMinedFromThisWorkersInputAndNoOthers() {
        String job = "own-" + UUID.randomUUID();
        try (MinedBatchSubscriber mine = subscriber(job).ownBatchesOf("w-a").build();
             EmbeddingPublisher a = publisher(job, "w-a");
             EmbeddingPublisher b = publisher(job, "w-b")) {
            for (long step = 0; step < 3; step++) {
                publish(b, step);
                publish(a, step);
            }
            List<MinedBatch> received = new ArrayList<>();
            Iterator<MinedBatch> batches = mine.iterator(WAIT);
            while (received.size() < 3 && batches.hasNext()) {
                received.add(batches.next());
            }

            assertThat(received).extracting(MinedBatch::getBatchId).containsExactly("w-a-0", "w-a-1", "w-a-2");
            assertThat(received).allSatisfy(m -> assertThat(m.getJobId()).isEqualTo(job));
            // Mined against the job's memory, which holds worker b's samples too.
            assertThat(received.get(2).getStats().getMemorySize()).isGreaterThan(4);
            assertThat(received.get(2).getTriplets()).isNotEmpty();
        }
    }

    @Test
    void memorySamplesAskedForByOneWorkerComeBackFromTheWholeJobsMemory() {
        String job = "memory-" + UUID.randomUUID();
        try (EmbeddingPublisher b = publisher(job, "w-b");
             MinedBatchSubscriber mine = subscriber(job).ownBatchesOf("w-a").build();
             EmbeddingPublisher a = EmbeddingPublisher.builder().bootstrapServers(kafka.bootstrapServers())
                     .registryUrl(registry.url()).topic(live.topics().embeddings()).jobsTopic(live.topics().jobs())
                     .jobId(job).workerId("w-a").memorySamples(2, 1).build()) {
            publish(b, 0); // w-b-s0-0 … 3: labels a a b b at (0, 0) (1, 0) (0.5, 1) (2, 1)
            MemorySampleCache cache = new MemorySampleCache(100, 0);
            List<MinedBatch> received = new ArrayList<>();
            long[] step = {1};
            // The service reads the JobConfig as a global table: the first batches may come without.
            await().atMost(WAIT).until(() -> {
                publish(a, step[0]++);
                for (MinedBatch m : mine.poll(Duration.ofMillis(200))) {
                    received.add(m);
                    cache.add(m);
                }
                return received.stream().anyMatch(m -> !m.getMemorySamples().isEmpty());
            });
            MinedBatch first = received.stream().filter(m -> !m.getMemorySamples().isEmpty()).findFirst().orElseThrow();
            // 4 anchors × (2 negatives + 1 positive), each sample once: at most 8 distinct samples of 12 places.
            assertThat(first.getMemorySamples()).hasSizeBetween(4, 8);
            // Anchor (0, s) of label a: its nearest negative is worker b's (0.5, 1), nearer than a's own (0.5, 1 + s).
            MemorySample fromB = first.getMemorySamples().stream()
                    .filter(x -> x.getSampleId().equals("w-b-s0-2")).findFirst().orElseThrow();
            assertThat(fromB.getLabel()).isEqualTo("b");
            assertThat(fromB.getStep()).isZero();
            MemorySampleCache.Snapshot snapshot = cache.snapshot(step[0]);
            int i = snapshot.sampleIds().indexOf("w-b-s0-2");
            assertThat(i).isNotNegative();
            assertThat(Arrays.copyOfRange(snapshot.embeddings(), 2 * i, 2 * i + 2)).containsExactly(0.5f, 1f);
        }
    }

    @Test
    void neighboursAskedForByThePublisherReachTheSamplerThroughTheSubscriber() {
        String job = "neighbors-" + UUID.randomUUID();
        try (EmbeddingPublisher a = EmbeddingPublisher.builder().bootstrapServers(kafka.bootstrapServers())
                     .registryUrl(registry.url()).topic(live.topics().embeddings()).jobsTopic(live.topics().jobs())
                     .jobId(job).workerId("w-a").neighbors(4).build();
             IdentityNeighborsSubscriber neighbors = IdentityNeighborsSubscriber.builder()
                     .bootstrapServers(kafka.bootstrapServers()).registryUrl(registry.url())
                     .topic(live.topics().neighbors()).jobId(job).build()) {
            HardIdentitySampler sampler = new HardIdentitySampler(
                    Map.of("a", new int[] {0, 1}, "b", new int[] {2, 3}, "c", new int[] {4}), 2, 2, 0.0, 2, 5);
            List<IdentityNeighbors> received = new ArrayList<>();
            long[] step = {0};
            // The service reads the JobConfig as a global table: the first batches may come without.
            await().atMost(WAIT).until(() -> {
                publish(a, step[0]++); // labels a a b b: each anchor's nearest negative is of the other label
                for (IdentityNeighbors n : neighbors.poll(Duration.ofMillis(200))) {
                    received.add(n);
                    sampler.update(n);
                }
                return sampler.identitiesWithNeighbors() == 2;
            });
            assertThat(received).allSatisfy(n -> assertThat(n.getJobId()).isEqualTo(job));
            IdentityNeighbors ofA = received.stream().filter(n -> n.getLabel().equals("a")).findFirst().orElseThrow();
            assertThat(ofA.getNeighbors()).extracting(Neighbor::getLabel).containsExactly("b");
            // No random share, groups of two: every batch is a and b, never c.
            assertThat(sampler.nextIdentities()).containsExactlyInAnyOrder("a", "b");
        }
    }

    @Test
    void groupModeSharesAllTheJobsMinedBatchesAndNoOtherJobs() {
        String job = "group-" + UUID.randomUUID();
        String otherJob = "other-" + UUID.randomUUID();
        try (MinedBatchSubscriber shared = subscriber(job).groupId("trainers-" + job).fromBeginning().build();
             EmbeddingPublisher a = publisher(job, "w-a");
             EmbeddingPublisher b = publisher(job, "w-b");
             EmbeddingPublisher other = publisher(otherJob, "w-a")) {
            for (long step = 0; step < 2; step++) {
                publish(other, step);
                publish(a, step);
                publish(b, step);
            }
            List<MinedBatch> received = pollUntil(shared, 4);

            assertThat(received).extracting(MinedBatch::getBatchId)
                    .containsExactlyInAnyOrder("w-a-0", "w-a-1", "w-b-0", "w-b-1");
            assertThat(received).allSatisfy(m -> assertThat(m.getJobId()).isEqualTo(job));
        }
    }

    @Test
    void batchesMoreThanMaxStalenessStepsBehindThePublishersNewestStepAreDropped() {
        String job = "stale-" + UUID.randomUUID();
        try (EmbeddingPublisher a = publisher(job, "w-a");
             MinedBatchSubscriber mine = subscriber(job).ownBatchesOf("w-a").maxStalenessSteps(2, a).build()) {
            for (long step = 0; step < 10; step++) {
                publish(a, step);
            }
            a.flush();
            assertThat(a.newestStep()).isEqualTo(9);

            // Steps 0..6 are more than 2 behind step 9; 7, 8 and 9 are fresh enough.
            List<MinedBatch> received = pollUntilDeliveredOrDropped(mine, 10);
            assertThat(received).extracting(MinedBatch::getStep).containsExactly(7L, 8L, 9L);
            assertThat(mine.droppedStale()).isEqualTo(7);
            assertThat(mine.delivered()).isEqualTo(3);
        }
    }

    @Test
    void aStaleRecordIsSkippedByItsStepHeaderWithoutDecodingItsValue() throws Exception {
        String job = "stale-header-" + UUID.randomUUID();
        try (EmbeddingPublisher a = publisher(job, "w-a");
             MinedBatchSubscriber mine = subscriber(job).ownBatchesOf("w-a").maxStalenessSteps(2, a).build();
             KafkaProducer<byte[], byte[]> raw = new KafkaProducer<>(
                     Map.of("bootstrap.servers", kafka.bootstrapServers()), new ByteArraySerializer(),
                     new ByteArraySerializer())) {
            // Not a MinedBatch at all: decoding it would count it undecodable. Its header says step 1.
            ProducerRecord<byte[], byte[]> junk = new ProducerRecord<>(live.topics().mined(),
                    Topics.minedKey(job, "w-a").getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3});
            junk.headers().add(Topics.STEP_HEADER, Topics.stepHeader(1));
            raw.send(junk).get(30, TimeUnit.SECONDS);
            for (long step = 0; step < 10; step++) {
                publish(a, step);
            }
            a.flush();

            List<MinedBatch> received = pollUntilDeliveredOrDropped(mine, 11);
            assertThat(received).extracting(MinedBatch::getStep).containsExactly(7L, 8L, 9L);
            assertThat(mine.droppedStale()).isEqualTo(8);
            assertThat(mine.undecodable()).isZero();
        }
    }

    @Test
    void callbackStyleDeliversOnTheSubscribersThreadAndCloseStopsIt() throws Exception {
        String job = "callback-" + UUID.randomUUID();
        List<MinedBatch> received = new CopyOnWriteArrayList<>();
        List<Thread> threads = new CopyOnWriteArrayList<>();
        MinedBatchSubscriber mine = subscriber(job).ownBatchesOf("w-a").build();
        try (EmbeddingPublisher a = publisher(job, "w-a")) {
            mine.start(batch -> {
                threads.add(Thread.currentThread());
                received.add(batch);
            });
            publish(a, 0);
            publish(a, 1);
            await().atMost(WAIT).until(() -> received.size() >= 2);
        } finally {
            mine.close();
        }

        assertThat(received).extracting(MinedBatch::getStep).containsExactly(0L, 1L);
        Thread callbackThread = threads.get(0);
        assertThat(callbackThread).isNotEqualTo(Thread.currentThread());
        callbackThread.join(TimeUnit.SECONDS.toMillis(1));
        assertThat(callbackThread.isAlive()).as("callback thread alive after close()").isFalse();
    }

    @Test
    void closeFromInsideTheCallbackReturnsWithoutWaitingForItsOwnThread() throws Exception {
        String job = "close-inside-" + UUID.randomUUID();
        List<MinedBatch> received = new CopyOnWriteArrayList<>();
        AtomicLong closeNanos = new AtomicLong(-1);
        MinedBatchSubscriber mine = subscriber(job).ownBatchesOf("w-a").build();
        try (EmbeddingPublisher a = publisher(job, "w-a")) {
            mine.start(batch -> {
                received.add(batch);
                long start = System.nanoTime();
                mine.close();
                closeNanos.set(System.nanoTime() - start);
            });
            publish(a, 0);
            publish(a, 1);
            await().atMost(WAIT).until(() -> closeNanos.get() >= 0);
        } finally {
            mine.close();
        }

        // Joining its own thread, close() would wait the whole CLOSE_TIMEOUT before returning.
        assertThat(Duration.ofNanos(closeNanos.get())).isLessThan(MinedBatchSubscriber.CLOSE_TIMEOUT);
        assertThat(mine.failure().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isNull();
        assertThat(received).as("batches delivered, none after close()").hasSize(1);
        assertThatThrownBy(() -> mine.poll(Duration.ZERO)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aCallbackThatThrowsIsLoggedAndTheNextBatchIsStillDelivered() {
        String job = "callback-throws-" + UUID.randomUUID();
        List<Long> steps = new CopyOnWriteArrayList<>();
        try (MinedBatchSubscriber mine = subscriber(job).ownBatchesOf("w-a").build();
             EmbeddingPublisher a = publisher(job, "w-a")) {
            mine.start(batch -> {
                steps.add(batch.getStep());
                if (batch.getStep() == 0) {
                    throw new IllegalStateException("the trainer's callback fails on step 0");
                }
            });
            publish(a, 0);
            publish(a, 1);
            await().atMost(WAIT).until(() -> steps.size() >= 2);

            assertThat(steps).containsExactly(0L, 1L);
            assertThat(mine.failure().toCompletableFuture()).isNotDone();
        }
    }

    /**
     * A MockConsumer of a one-partition topic that fails on demand, pausing a little when it has
     * nothing, as a broker would. Records can be added once the subscriber has assigned the partition.
     */
    private static final class ScriptedConsumer extends MockConsumer<String, MinedBatch> {
        final TopicPartition partition = new TopicPartition("mined-scripted", 0);
        private long nextOffset;

        ScriptedConsumer() {
            super("latest");
            updatePartitions(partition.topic(), List.of(new PartitionInfo(partition.topic(), 0, Node.noNode(), new Node[0], new Node[0])));
            updateBeginningOffsets(java.util.Map.of(partition, 0L));
            updateEndOffsets(java.util.Map.of(partition, 0L));
        }

        void add(String key, MinedBatch batch) {
            addRecord(new ConsumerRecord<>(partition.topic(), 0, nextOffset++, key, batch));
        }

        @Override
        public ConsumerRecords<String, MinedBatch> poll(Duration timeout) {
            ConsumerRecords<String, MinedBatch> records = super.poll(timeout);
            if (records.isEmpty()) {
                try {
                    Thread.sleep(Math.min(20, timeout.toMillis()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return records;
        }
    }

    private MinedBatchSubscriber scripted(String job, ScriptedConsumer consumer) {
        return subscriber(job).topic(consumer.partition.topic()).ownBatchesOf("w-a").consumer(consumer).build();
    }

    private static MinedBatch minedBatch(String job, long step) {
        return MinedBatch.newBuilder().setJobId(job).setBatchId("w-a-" + step).setWorkerId("w-a").setStep(step)
                .setStrategy("batch-hard").setMargin(0.2f).setDistance("euclidean").setMinedAt(Instant.EPOCH)
                .setTriplets(List.of())
                .setStats(BatchStats.newBuilder().setAnchors(0).setValidAnchors(0).setHard(0).setSemiHard(0).setEasy(0)
                        .setLossBatchHard(0).setLossSemiHard(0).setLossWeighted(0).setMeanDAp(0).setMeanDAn(0)
                        .setMemorySize(0).setMemoryIdentities(0).setMiningMs(0).build())
                .build();
    }

    @Test
    void aRetriableReadErrorIsLoggedAndDeliveryGoesOnAfterAPause() {
        String job = "retriable-" + UUID.randomUUID();
        ScriptedConsumer consumer = new ScriptedConsumer();
        List<Long> steps = new CopyOnWriteArrayList<>();
        try (MinedBatchSubscriber mine = scripted(job, consumer)) {
            consumer.setPollException(new KafkaException("the fetch failed"));
            consumer.add(Topics.minedKey(job, "w-a"), minedBatch(job, 3));
            mine.start(batch -> steps.add(batch.getStep()));
            await().atMost(WAIT).until(() -> !steps.isEmpty());

            assertThat(steps).containsExactly(3L);
            assertThat(mine.failure().toCompletableFuture()).isNotDone();
        }
        assertThat(consumer.closed()).isTrue();
    }

    @Test
    void aFatalReadErrorEndsDeliveryAndCompletesFailureWithIt() throws Exception {
        String job = "fatal-" + UUID.randomUUID();
        ScriptedConsumer consumer = new ScriptedConsumer();
        TopicAuthorizationException refused = new TopicAuthorizationException(Set.of(consumer.partition.topic()));
        List<Long> steps = new CopyOnWriteArrayList<>();
        try (MinedBatchSubscriber mine = scripted(job, consumer)) {
            consumer.setPollException(refused);
            consumer.add(Topics.minedKey(job, "w-a"), minedBatch(job, 3));
            mine.start(batch -> steps.add(batch.getStep()));
            CompletableFuture<Throwable> failure = mine.failure().toCompletableFuture();

            assertThat(failure.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isSameAs(refused);
            assertThat(steps).as("nothing delivered after the fatal error").isEmpty();
        }
        assertThat(consumer.closed()).isTrue();
    }

    /** The loop of the package documentation, on this test's topics: it runs, and memory samples come back. */
    @Test
    void thePackageDocumentationsLoopRunsAndGetsMemorySamples() {
        String job = "doc-" + UUID.randomUUID();
        MemorySampleCache memory = new MemorySampleCache(2048, 50);
        try (EmbeddingPublisher publisher = EmbeddingPublisher.builder()
                 .bootstrapServers(kafka.bootstrapServers()).registryUrl(registry.url()).topic(live.topics().embeddings())
                 .jobsTopic(live.topics().jobs()).jobId(job).workerId("rank-0").memorySamples(16, 4).build();
             MinedBatchSubscriber mined = MinedBatchSubscriber.builder()
                 .bootstrapServers(kafka.bootstrapServers()).registryUrl(registry.url()).topic(live.topics().mined())
                 .jobId(job).ownBatchesOf("rank-0").build()) {
            Random random = new Random(0);
            for (long step = 0; step < 100; step++) {
                List<String> ids = new ArrayList<>();
                List<String> labels = new ArrayList<>();
                float[][] embeddings = new float[32][16];
                for (int i = 0; i < 32; i++) {
                    long identity = (step * 8 + i / 4) % 50;
                    ids.add("img-" + identity + "-" + i % 4);
                    labels.add("person-" + identity);
                    for (int d = 0; d < 16; d++) {
                        embeddings[i][d] = (float) random.nextGaussian();
                    }
                }
                publisher.publish(step, ids, labels, embeddings);
                for (MinedBatch batch : mined.poll(Duration.ZERO)) {
                    memory.add(batch);
                }
                MemorySampleCache.Snapshot extra = memory.snapshot(step);
                assertThat(extra.embeddings()).hasSize(extra.size() * extra.dim());
            }
            publisher.flush();
            // The loop does not wait for the miner; the rest of its answers are read here.
            await().atMost(WAIT).until(() -> {
                mined.poll(Duration.ofMillis(100)).forEach(memory::add);
                return mined.delivered() == 100;
            });
        }
        MemorySampleCache.Snapshot last = memory.snapshot(99);
        // 50 identities x 4 images: the job's memory holds 200 samples, most of them sent back by now.
        assertThat(last.size()).isBetween(100, 200);
        assertThat(last.dim()).isEqualTo(16);
        assertThat(last.sampleIds()).allSatisfy(id -> assertThat(id).startsWith("img-"));
        assertThat(last.labels()).allSatisfy(label -> assertThat(label).startsWith("person-"));
    }
}
