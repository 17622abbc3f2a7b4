package dev.hardmine.stream;

import static dev.hardmine.testing.BadRecords.floats;
import static dev.hardmine.testing.BadRecords.withEmbedding;
import static dev.hardmine.testing.BadRecords.withFirstByte;
import static dev.hardmine.testing.BadRecords.withSchemaId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.avro.Sample;
import dev.hardmine.avro.Triplet;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.metrics.HardmineMetrics;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.PrometheusText;
import dev.hardmine.testing.SharedKafkaBroker;
import dev.hardmine.testing.SyntheticLog;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The service against a real broker and the registry over HTTP (kept in the broker, as in a
 * deployment): what goes in comes out once, committed, keyed for the trainers; bad input goes to
 * the dead letters, unchanged and explained, and valid input around it is still mined.
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(90)
class MinerServiceIntegrationTest {
    private static EmbeddedSchemaRegistry registry;

    @TempDir
    Path tmp;
    private LiveMining live;

    @BeforeAll
    static void startRegistry(EmbeddedKafkaBroker kafka) {
        registry = EmbeddedSchemaRegistry.builder().kafka(kafka.bootstrapServers())
                .topic("_schemas-" + UUID.randomUUID()).start();
    }

    @AfterAll
    static void stopRegistry() {
        registry.close();
    }

    @BeforeEach
    void slice(EmbeddedKafkaBroker kafka) {
        live = new LiveMining(kafka, registry.url(), tmp);
    }

    @AfterEach
    void close() {
        live.close();
    }

    @Test
    void everyBatchOfEveryWorkerAndJobIsMinedExactlyOnceWithStatsPerJob() {
        // 12 batches: jobs job-0/job-1 alternate, workers w0..w2 rotate (SyntheticLog).
        List<EmbeddingBatch> batches = SyntheticLog.batches(21, 12, 4, 3, 8);
        live.start(live.properties("memory.per-identity", "0"));
        batches.forEach(live::send);

        List<ConsumerRecord<String, MinedBatch>> out = live.awaitMined(batches.size());
        assertThat(live.countMoreWithin(live.topics().mined(), Duration.ofSeconds(1))).isZero();
        assertThat(out).hasSize(batches.size());

        Map<String, EmbeddingBatch> byId = new HashMap<>();
        batches.forEach(b -> byId.put(b.getBatchId(), b));
        assertThat(out).extracting(r -> r.value().getBatchId()).containsExactlyInAnyOrderElementsOf(byId.keySet());
        for (ConsumerRecord<String, MinedBatch> r : out) {
            MinedBatch m = r.value();
            EmbeddingBatch source = byId.get(m.getBatchId());
            assertThat(r.key()).isEqualTo(source.getJobId() + "/" + source.getWorkerId());
            assertThat(m.getJobId()).isEqualTo(source.getJobId());
            assertThat(m.getWorkerId()).isEqualTo(source.getWorkerId());
            assertThat(m.getStep()).isEqualTo(source.getStep());
            assertThat(m.getStats().getAnchors()).isEqualTo(source.getSamples().size());
            // Anchors come from the batch; positives and negatives from what the job published so far.
            Set<String> anchors = ids(List.of(source));
            Set<String> published = ids(batches.stream().filter(b -> b.getJobId().equals(source.getJobId())
                    && b.getStep() <= source.getStep()).toList());
            for (Triplet t : m.getTriplets()) {
                assertThat(anchors).contains(t.getAnchorId());
                assertThat(published).contains(t.getPositiveId(), t.getNegativeId());
            }
            // With no per-identity limit the memory holds every distinct id published to the job.
            assertThat(m.getStats().getMemorySize()).isEqualTo(published.size());
        }
        assertThat(out).anySatisfy(r -> assertThat(r.value().getTriplets()).isNotEmpty());

        // Stats: per job and window, the last update counts all of the window's batches.
        Map<String, Map<Instant, MiningStats>> latest = new HashMap<>();
        await().atMost(LiveMining.TIMEOUT).until(() -> {
            latest.clear();
            for (ConsumerRecord<String, MiningStats> r : live.awaitStats(0)) {
                latest.computeIfAbsent(r.key(), k -> new HashMap<>()).put(r.value().getWindowStart(), r.value());
            }
            return batchesCounted(latest, "job-0") == 6 && batchesCounted(latest, "job-1") == 6;
        });
        assertThat(latest).containsOnlyKeys("job-0", "job-1");
        for (String job : List.of("job-0", "job-1")) {
            long embeddings = batches.stream().filter(b -> b.getJobId().equals(job))
                    .mapToLong(b -> b.getSamples().size()).sum();
            assertThat(latest.get(job).values().stream().mapToLong(MiningStats::getEmbeddings).sum())
                    .isEqualTo(embeddings);
        }
    }

    private static long batchesCounted(Map<String, Map<Instant, MiningStats>> latest, String job) {
        return latest.getOrDefault(job, Map.of()).values().stream().mapToLong(MiningStats::getBatches).sum();
    }

    private static Set<String> ids(List<EmbeddingBatch> batches) {
        Set<String> ids = new HashSet<>();
        batches.forEach(b -> b.getSamples().forEach(s -> ids.add(s.getSampleId())));
        return ids;
    }

    @Test
    void undecodableAndInvalidRecordsAreDeadLetteredUnchangedWhileValidOnesAroundThemAreMined() {
        HardmineMetrics metrics = new HardmineMetrics();
        live.start(live.properties("limits.max-batch-size", "4", "limits.max-dim", "8",
                "memory.per-identity", "0"), metrics.observer());
        byte[] good = live.serialize(batch("ok-0", 0, 2, "a", "A", "b", "B"));
        Map<String, byte[]> bad = new LinkedHashMap<>();
        bad.put("bad-magic-byte", withFirstByte(good, (byte) 1));
        bad.put("unknown-schema-id", withSchemaId(good, 987_654));
        bad.put("truncated", Arrays.copyOf(good, good.length - 5));
        bad.put("embedding-length", live.serialize(withEmbedding(batch("b1", 1, 2, "c", "A"), new byte[6])));
        bad.put("non-finite-embedding", live.serialize(withEmbedding(batch("b2", 2, 2, "c", "A"),
                floats(Float.POSITIVE_INFINITY, 1f))));
        bad.put("duplicate-sample-id", live.serialize(batch("b3", 3, 2, "c", "A", "c", "B")));
        bad.put("batch-too-large", live.serialize(batch("b4", 4, 2, "c", "A", "d", "A", "e", "B", "g", "B", "h", "C")));
        bad.put("dim-mismatch", live.serialize(batch("b5", 5, 3, "c", "A")));

        RecordMetadata first = live.sendRaw("job", good);
        Map<String, RecordMetadata> where = new LinkedHashMap<>();
        bad.forEach((reason, bytes) -> where.put(reason, live.sendRaw("job", bytes)));
        live.send(batch("ok-1", 6, 2, "d", "A", "e", "B"));

        List<ConsumerRecord<String, MinedBatch>> mined = live.awaitMined(2);
        assertThat(mined).extracting(r -> r.value().getBatchId()).containsExactly("ok-0", "ok-1");
        assertThat(mined.get(1).value().getStats().getMemorySize()).isEqualTo(4);

        List<ConsumerRecord<byte[], byte[]>> letters = live.awaitDeadLetters(bad.size());
        assertThat(live.countMoreWithin(live.topics().dlq(), Duration.ofMillis(500))).isZero();
        assertThat(live.countMoreWithin(live.topics().mined(), Duration.ofMillis(1))).isZero();
        // The embeddings key is job_id, so all of them went to one partition, in order; so do the letters.
        assertThat(letters).extracting(r -> header(r, DeadLetters.REASON)).containsExactlyElementsOf(bad.keySet());
        List<String> reasons = new ArrayList<>(bad.keySet());
        long before = System.currentTimeMillis();
        for (int i = 0; i < letters.size(); i++) {
            ConsumerRecord<byte[], byte[]> r = letters.get(i);
            String reason = reasons.get(i);
            RecordMetadata source = where.get(reason);
            assertThat(r.value()).as("original bytes of %s", reason).isEqualTo(bad.get(reason));
            assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("job");
            assertThat(header(r, DeadLetters.SOURCE_TOPIC)).isEqualTo(live.topics().embeddings());
            assertThat(header(r, DeadLetters.SOURCE_PARTITION)).isEqualTo(Integer.toString(source.partition()));
            assertThat(header(r, DeadLetters.SOURCE_OFFSET)).as(reason).isEqualTo(Long.toString(source.offset()));
            assertThat(Long.parseLong(header(r, DeadLetters.FAILED_AT))).isBetween(first.timestamp() - 1000, before);
            assertThat(header(r, DeadLetters.MESSAGE)).isNotBlank();
        }
        // Counted in the metrics, one per reason, the other reasons at 0; the two good batches as mined.
        PrometheusText scrape = PrometheusText.parse(metrics.scrape());
        assertThat(scrape.samples("hardmine_dead_letters_total")).filteredOn(s -> s.value() != 0)
                .extracting(s -> s.labels().get("reason")).containsExactlyInAnyOrderElementsOf(bad.keySet());
        for (String reason : bad.keySet()) {
            assertThat(scrape.value("hardmine_dead_letters_total", "reason", reason)).as(reason).isEqualTo(1.0);
        }
        assertThat(scrape.value("hardmine_batches_total", "job", "job")).isEqualTo(2.0);
        metrics.close();
    }

    /**
     * JobConfigs are read on Kafka Streams' global thread, whose handler cannot hand dead letters to
     * a record collector as a task's does (the thread, and the service with it, used to stop on the
     * first one): they are written all the same, and the settings after them apply.
     */
    @Test
    void jobConfigsThatCannotBeDecodedAreDeadLetteredAndTheSettingsAfterThemApply() {
        MinerService service = live.start(live.properties());
        JobConfig settings = JobConfig.newBuilder().setJobId("job").setMargin(0.37f).build();
        byte[] good = live.serialize(settings);
        Map<String, byte[]> bad = new LinkedHashMap<>();
        bad.put("bad-magic-byte", withFirstByte(good, (byte) 1));
        bad.put("unknown-schema-id", withSchemaId(good, 987_654));
        bad.put("truncated", Arrays.copyOf(good, 7));
        Map<String, RecordMetadata> where = sendToJobsTopic(bad);
        live.send(settings);

        assertDeadLettersOfJobsTopic(bad, where);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(LiveMining.jobConfig(service, "job"))
                .as("the settings after the bad ones, in the jobs table").isEqualTo(settings));
        live.send(batch("ok-0", 0, 2, "a", "A", "b", "B"));
        assertThat(live.awaitMined(1).get(0).value().getMargin()).as("margin of the job's batch").isEqualTo(0.37f);
        assertThat(live.countMoreWithin(live.topics().dlq(), Duration.ofMillis(500))).as("more dead letters").isZero();
        assertThat(service.deadLetters().snapshot()).as("dead letters counted")
                .containsEntry("bad-magic-byte", 1L).containsEntry("unknown-schema-id", 1L).containsEntry("truncated", 1L);
        assertThat(service.failure().toCompletableFuture()).as("the service's failure").isNotDone();
    }

    /** Publishes each value to the jobs topic under the key "job", in order. */
    private Map<String, RecordMetadata> sendToJobsTopic(Map<String, byte[]> byReason) {
        Map<String, RecordMetadata> where = new LinkedHashMap<>();
        byReason.forEach((reason, bytes) -> where.put(reason, live.sendRaw(live.topics().jobs(), "job", bytes)));
        return where;
    }

    /** Awaits one dead letter per value sent by {@link #sendToJobsTopic}, in order, each with its bytes and source. */
    private List<ConsumerRecord<byte[], byte[]>> assertDeadLettersOfJobsTopic(Map<String, byte[]> byReason,
                                                                             Map<String, RecordMetadata> where) {
        List<ConsumerRecord<byte[], byte[]>> letters = live.awaitDeadLetters(byReason.size());
        assertThat(letters).extracting(r -> header(r, DeadLetters.REASON)).containsExactlyElementsOf(byReason.keySet());
        for (ConsumerRecord<byte[], byte[]> r : letters) {
            String reason = header(r, DeadLetters.REASON);
            assertThat(r.value()).as("original bytes of %s", reason).isEqualTo(byReason.get(reason));
            assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("job");
            assertThat(header(r, DeadLetters.SOURCE_TOPIC)).isEqualTo(live.topics().jobs());
            assertThat(header(r, DeadLetters.SOURCE_PARTITION)).isEqualTo(Integer.toString(where.get(reason).partition()));
            assertThat(header(r, DeadLetters.SOURCE_OFFSET)).isEqualTo(Long.toString(where.get(reason).offset()));
        }
        return letters;
    }

    /**
     * JobConfigs published while the service is stopped are read at its next start as the global
     * thread's restore, not its processing: they must be decoded and checked there too, or a bad
     * one would sit in the jobs table as raw bytes and every batch of its job fail on it.
     */
    @Test
    void jobConfigsPublishedWhileTheServiceIsStoppedAreReadAtItsStartAsLiveOnesAre() {
        Properties properties = live.properties();
        live.start(properties).close();
        JobConfig settings = JobConfig.newBuilder().setJobId("job").setMargin(0.37f).build();
        live.send(settings);
        byte[] bad = withFirstByte(live.serialize(JobConfig.newBuilder(settings).setMargin(0.5f).build()), (byte) 1);
        RecordMetadata where = live.sendRaw(live.topics().jobs(), "job", bad);
        // One the service rejects, of another job: read by the restore too, which hands the handler its bytes.
        byte[] rejected = live.serialize(JobConfig.newBuilder().setJobId("job-2").setStrategy("no-such-strategy").build());
        RecordMetadata whereRejected = live.sendRaw(live.topics().jobs(), "job-2", rejected);

        MinerService service = live.start(properties);
        live.send(batch("ok-0", 0, 2, "a", "A", "b", "B"));
        assertThat(live.awaitMined(1).get(0).value().getMargin()).as("margin of the job's batch").isEqualTo(0.37f);
        List<ConsumerRecord<byte[], byte[]>> letters = live.awaitDeadLetters(2);
        assertThat(letters).hasSize(2);
        assertThat(letters).filteredOn(r -> header(r, DeadLetters.REASON).equals("bad-magic-byte")).singleElement()
                .satisfies(r -> {
                    assertThat(header(r, DeadLetters.SOURCE_TOPIC)).isEqualTo(live.topics().jobs());
                    assertThat(header(r, DeadLetters.SOURCE_OFFSET)).isEqualTo(Long.toString(where.offset()));
                    assertThat(r.value()).isEqualTo(bad);
                });
        assertThat(letters).filteredOn(r -> header(r, DeadLetters.REASON).equals("invalid-job-config")).singleElement()
                .satisfies(r -> {
                    assertThat(header(r, DeadLetters.SOURCE_PARTITION))
                            .isEqualTo(Integer.toString(whereRejected.partition()));
                    assertThat(header(r, DeadLetters.SOURCE_OFFSET)).isEqualTo(Long.toString(whereRejected.offset()));
                    assertThat(header(r, DeadLetters.MESSAGE)).contains("no-such-strategy");
                    assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("job-2");
                    assertThat(r.value()).isEqualTo(rejected);
                });
        assertThat(LiveMining.jobConfig(service, "job-2")).isNull();
        assertThat(live.countMoreWithin(live.topics().dlq(), Duration.ofMillis(500))).as("more dead letters").isZero();
        assertThat(service.failure().toCompletableFuture()).as("the service's failure").isNotDone();
    }

    /**
     * A JobConfig that decodes but that the service rejects — an override out of range, or one keyed
     * by another job — is a dead letter with its bytes as written, from Kafka Streams' global
     * thread (whose processing, unlike its restore, hands the handler no bytes: they are read back),
     * and the job mines with the service's settings until its next valid JobConfig. The global
     * thread's processing-exception handler is on: Kafka Streams neither warns that it is off nor
     * drops a letter it cannot send.
     */
    @Test
    void jobConfigsTheServiceRejectsAreDeadLetteredAndTheJobMinesWithTheDefaultsUntilItsNextValidOne() {
        ListAppender<ILoggingEvent> streamsLog = new ListAppender<>();
        streamsLog.start();
        Logger streamsLogger = (Logger) LoggerFactory.getLogger("org.apache.kafka.streams");
        streamsLogger.addAppender(streamsLog);
        try {
            MinerService service = live.start(live.properties());
            JobConfig settings = JobConfig.newBuilder().setJobId("job").setMargin(0.37f).build();
            live.send(settings);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(LiveMining.jobConfig(service, "job")).isEqualTo(settings));
            Map<String, byte[]> bad = new LinkedHashMap<>();
            bad.put("invalid-job-config", live.serialize(JobConfig.newBuilder(settings).setMargin(-1f).build()));
            bad.put("key-mismatch", live.serialize(JobConfig.newBuilder(settings).setJobId("other").build()));
            List<ConsumerRecord<byte[], byte[]>> letters = assertDeadLettersOfJobsTopic(bad, sendToJobsTopic(bad));
            assertThat(letters).extracting(r -> header(r, DeadLetters.EXCEPTION))
                    .containsOnly(InvalidJobConfigException.class.getName());
            assertThat(header(letters.get(0), DeadLetters.MESSAGE)).contains("margin");
            assertThat(header(letters.get(1), DeadLetters.MESSAGE)).contains("'job'", "'other'");
            assertThat(LiveMining.jobConfig(service, "job")).as("the job's entry after the rejected ones").isNull();

            live.send(batch("ok-0", 0, 2, "a", "A", "b", "B"));
            assertThat(live.awaitMined(1).get(0).value().getMargin()).as("margin with the defaults").isEqualTo(0.2f);
            JobConfig next = JobConfig.newBuilder(settings).setMargin(0.41f).build();
            live.send(next);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(LiveMining.jobConfig(service, "job")).isEqualTo(next));
            live.send(batch("ok-1", 1, 2, "c", "A", "d", "B"));
            assertThat(live.awaitMined(2).get(1).value().getMargin()).as("margin of the next JobConfig").isEqualTo(0.41f);

            assertThat(live.countMoreWithin(live.topics().dlq(), Duration.ofMillis(500))).as("more dead letters").isZero();
            assertThat(service.deadLetters().snapshot()).as("dead letters counted")
                    .containsEntry("invalid-job-config", 1L).containsEntry("key-mismatch", 1L);
            assertThat(service.failure().toCompletableFuture()).as("the service's failure").isNotDone();
            assertThat(streamsLog.list).extracting(ILoggingEvent::getFormattedMessage)
                    .noneMatch(m -> m.contains("not enabled for the GlobalThread") || m.contains("cannot be sent"));
        } finally {
            streamsLogger.detachAppender(streamsLog);
        }
    }

    @Test
    void withIdentityShardingABadBatchIsDeadLetteredWholeAndNoPartOfItIsMined() {
        // Labels A and B fall in different shards of two.
        assertThat(ShardSplitter.shardOf("A", 2)).isNotEqualTo(ShardSplitter.shardOf("B", 2));
        live.start(live.properties("shards.per-job", "2", "memory.per-identity", "0"));
        live.send(batch("ok-0", 0, 2, "a", "A", "b", "B"));
        Map<String, byte[]> bad = new LinkedHashMap<>();
        // Only B's sample is bad: its shard alone would notice.
        bad.put("non-finite-embedding", live.serialize(EmbeddingBatch.newBuilder(batch("b1", 1, 2, "c", "A", "d", "B"))
                .setSamples(List.of(new Sample("c", "A", ByteBuffer.wrap(floats(1f, 2f))),
                        new Sample("d", "B", ByteBuffer.wrap(floats(Float.NaN, 2f))))).build()));
        // Both shards know the job's dim: each would reject its part.
        bad.put("dim-mismatch", live.serialize(batch("b2", 2, 3, "e", "A", "f", "B")));
        Map<String, RecordMetadata> where = new LinkedHashMap<>();
        bad.forEach((reason, bytes) -> where.put(reason, live.sendRaw("job", bytes)));
        live.send(batch("ok-1", 3, 2, "g", "A", "h", "B"));

        // One MinedBatch per shard of each valid batch; the shard of A holds a, g: 2 entries.
        List<ConsumerRecord<String, MinedBatch>> mined = live.awaitMined(4);
        List<ConsumerRecord<byte[], byte[]>> letters = live.awaitDeadLetters(bad.size());
        assertThat(live.countMoreWithin(live.topics().dlq(), Duration.ofMillis(500))).isZero();
        assertThat(live.countMoreWithin(live.topics().mined(), Duration.ofMillis(1))).isZero();
        assertThat(mined).extracting(r -> r.value().getBatchId()).containsOnly("ok-0", "ok-1");
        assertThat(mined).filteredOn(r -> r.value().getBatchId().equals("ok-1"))
                .allSatisfy(r -> assertThat(r.value().getStats().getMemorySize()).isEqualTo(2));

        assertThat(letters).extracting(r -> header(r, DeadLetters.REASON)).containsExactlyElementsOf(bad.keySet());
        for (ConsumerRecord<byte[], byte[]> r : letters) {
            String reason = header(r, DeadLetters.REASON);
            assertThat(r.value()).as("original bytes of %s", reason).isEqualTo(bad.get(reason));
            assertThat(header(r, DeadLetters.SOURCE_TOPIC)).isEqualTo(live.topics().embeddings());
            assertThat(header(r, DeadLetters.SOURCE_OFFSET)).isEqualTo(Long.toString(where.get(reason).offset()));
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** A batch of job "job", worker "w": (sample id, label) pairs with distinct dim-sized embeddings. */
    static EmbeddingBatch batch(String batchId, long step, int dim, String... idsAndLabels) {
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < idsAndLabels.length; i += 2) {
            ByteBuffer e = ByteBuffer.allocate(4 * dim).order(ByteOrder.LITTLE_ENDIAN);
            for (int d = 0; d < dim; d++) {
                e.putFloat(i * 0.5f + d * 0.25f);
            }
            samples.add(new Sample(idsAndLabels[i], idsAndLabels[i + 1], e.flip()));
        }
        return EmbeddingBatch.newBuilder().setJobId("job").setWorkerId("w").setBatchId(batchId).setStep(step)
                .setModelVersion("").setProducedAt(Instant.now()).setDim(dim).setSamples(samples).build();
    }
}
