package dev.hardmine.stream;

import dev.hardmine.client.Topics;
import static dev.hardmine.testing.BadRecords.floats;
import static dev.hardmine.testing.BadRecords.withEmbedding;
import static dev.hardmine.testing.BadRecords.withFirstByte;
import static dev.hardmine.testing.BadRecords.withSchemaId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.MemorySample;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.avro.Neighbor;
import dev.hardmine.avro.Sample;
import dev.hardmine.avro.Triplet;
import dev.hardmine.mining.Embeddings;
import dev.hardmine.mining.JobMiner;
import dev.hardmine.mining.SharedWarmer;
import dev.hardmine.mining.MemoryBank;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MemorySampling;
import dev.hardmine.mining.MinedTriplet;
import dev.hardmine.mining.MiningResult;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.testing.SyntheticLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

class MiningTopologyTest {
    @TempDir
    Path stateDir;

    private TopologyFixture fixture(String... keyValues) {
        return new TopologyFixture(properties(keyValues), stateDir);
    }

    private static Properties properties(String... keyValues) {
        Properties p = new Properties();
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return p;
    }

    private static List<String> describe(List<Triplet> triplets) {
        return triplets.stream().map(t -> t.getAnchorId() + "," + t.getPositiveId() + "," + t.getNegativeId() + ","
                + t.getDAp() + "," + t.getDAn() + "," + t.getPositiveStep() + "," + t.getNegativeStep()).toList();
    }

    private static List<String> describeCore(List<MinedTriplet> triplets) {
        return triplets.stream().map(t -> t.anchorId() + "," + t.positiveId() + "," + t.negativeId() + ","
                + t.dAp() + "," + t.dAn() + "," + t.positiveStep() + "," + t.negativeStep()).toList();
    }

    @Test
    void sequenceOfBatchesYieldsExactlyWhatTheCoreLibraryYields() {
        List<EmbeddingBatch> batches = SyntheticLog.batches(11, 8, 6, 4, 8);
        try (TopologyFixture f = fixture("mining.strategy", "semi-hard", "mining.margin", "0.5");
             JobMiner job0 = new JobMiner(new MemoryLimits(0, 65536, 0));
             JobMiner job1 = new JobMiner(new MemoryLimits(0, 65536, 0))) {
            batches.forEach(f::send);
            List<TestRecord<String, MinedBatch>> out = f.output.readRecordsToList();
            assertThat(out).hasSize(batches.size());
            MiningSettings settings = f.config.mining();
            for (int i = 0; i < batches.size(); i++) {
                EmbeddingBatch b = batches.get(i);
                MinedBatch m = out.get(i).value();
                JobMiner core = b.getJobId().equals("job-0") ? job0 : job1;
                MiningResult expected = core.mine(EmbeddingBatches.toSampleBatch(b, InputLimits.defaults()), settings);
                assertThat(out.get(i).key()).isEqualTo(b.getJobId() + "/" + b.getWorkerId());
                assertThat(m.getBatchId()).isEqualTo(b.getBatchId());
                assertThat(Topics.stepOf(out.get(i).headers().lastHeader(Topics.STEP_HEADER).value()))
                        .as("the step header, for trainers that skip stale results undecoded").isEqualTo(b.getStep());
                assertThat(m.getStrategy()).isEqualTo("semi-hard");
                assertThat(describe(m.getTriplets())).containsExactlyElementsOf(describeCore(expected.triplets()));
                assertThat(m.getStats().getHard()).isEqualTo(expected.stats().hard());
                assertThat(m.getStats().getSemiHard()).isEqualTo(expected.stats().semiHard());
                assertThat(m.getStats().getEasy()).isEqualTo(expected.stats().easy());
                assertThat(m.getStats().getLossBatchHard()).isEqualTo(expected.stats().lossBatchHard());
                assertThat(m.getStats().getLossSemiHard()).isEqualTo(expected.stats().lossSemiHard());
                assertThat(m.getStats().getLossWeighted()).isEqualTo(expected.stats().lossWeighted());
                assertThat(m.getStats().getMemorySize()).isEqualTo(expected.stats().memorySize());
                assertThat(m.getProducedAt()).isEqualTo(b.getProducedAt());
            }
            assertThat(out.get(out.size() - 1).value().getTriplets()).isNotEmpty();
        }
    }

    @Test
    void eachBatchsDataIsKeptWarmUnlessKeepWarmIsZero() {
        try (TopologyFixture f = fixture("memory.keep-warm", "1h")) {
            SharedWarmer.stop();
            f.send(valid("b0", 0, "a", "A", "b", "B"));
            assertThat(f.output.readValuesToList()).hasSize(1);
            assertThat(SharedWarmer.keeping()).as("kept warm after the batch").isTrue();
        }
        assertThat(SharedWarmer.keeping()).as("kept warm after the miner closed").isFalse();
        try (TopologyFixture f = fixture("memory.keep-warm", "0")) {
            f.send(valid("b0", 0, "a", "A", "b", "B"));
            assertThat(f.output.readValuesToList()).hasSize(1);
            assertThat(SharedWarmer.keeping()).as("kept warm with memory.keep-warm=0").isFalse();
        }
    }

    @Test
    void statsTopicAggregatesEachJobsBatchesPerWindow() {
        List<EmbeddingBatch> batches = SyntheticLog.batches(12, 6, 4, 3, 4);
        try (TopologyFixture f = fixture("stats.window", "1h")) {
            batches.forEach(f::send);
            Map<String, MiningStats> latest = new HashMap<>();
            f.statsOutput.readRecordsToList().forEach(r -> latest.put(r.key(), r.value()));
            assertThat(latest).containsOnlyKeys("job-0", "job-1");
            MiningStats job0 = latest.get("job-0");
            assertThat(job0.getBatches()).isEqualTo(3);
            long embeddings = batches.stream().filter(b -> b.getJobId().equals("job-0"))
                    .mapToLong(b -> b.getSamples().size()).sum();
            assertThat(job0.getEmbeddings()).isEqualTo(embeddings);
            assertThat(job0.getHard() + job0.getSemiHard() + job0.getEasy()).isPositive();
            assertThat(job0.getWindowEnd().toEpochMilli() - job0.getWindowStart().toEpochMilli()).isEqualTo(3_600_000L);
            assertThat(job0.getLatencyP99Ms()).isGreaterThanOrEqualTo(job0.getLatencyP50Ms());
        }
    }

    @Test
    void aBatchUpToOneWindowLateStillCountsInItsWindow() {
        try (TopologyFixture f = fixture("stats.window", "10s")) {
            long start = 1_700_000_000_000L - 1_700_000_000_000L % 10_000; // a window boundary
            f.send(at(valid("b0", 0, "a", "A", "b", "B"), start + 1_000));
            f.send(at(valid("b1", 1, "c", "A", "d", "B"), start + 19_000)); // the next window; stream time moves on
            f.send(at(valid("b2", 2, "e", "A", "g", "B"), start + 9_000));  // 10 s behind stream time: within grace
            Map<Long, MiningStats> windows = new HashMap<>();
            f.statsOutput.readValuesToList().forEach(m -> windows.put(m.getWindowStart().toEpochMilli(), m));
            assertThat(windows.get(start).getBatches()).isEqualTo(2);
            assertThat(windows.get(start + 10_000).getBatches()).isEqualTo(1);
        }
    }

    private static EmbeddingBatch at(EmbeddingBatch b, long producedAt) {
        return EmbeddingBatch.newBuilder(b).setProducedAt(Instant.ofEpochMilli(producedAt)).build();
    }

    private static EmbeddingBatch valid(String batchId, long step, String... idsAndLabels) {
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < idsAndLabels.length; i += 2) {
            ByteBuffer e = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            e.putFloat(i * 0.5f).putFloat(1f - i * 0.25f).flip();
            samples.add(new Sample(idsAndLabels[i], idsAndLabels[i + 1], e));
        }
        return EmbeddingBatch.newBuilder().setJobId("job").setWorkerId("w").setBatchId(batchId).setStep(step)
                .setModelVersion("").setProducedAt(Instant.ofEpochMilli(1_700_000_000_000L + step)).setDim(2)
                .setSamples(samples).build();
    }

    private static String header(TestRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /**
     * Contract violations of records that decode. (Records that do not decode go through the
     * deserialization handler, whose dead letters TopologyTestDriver does not deliver; the
     * integration test against a real broker covers them, and this test checks they are counted.)
     */
    @Test
    void everyBadInputClassIsDeadLetteredWithItsReasonWhileValidRecordsAroundItAreMined() {
        try (TopologyFixture f = fixture("limits.max-batch-size", "4", "limits.max-dim", "8")) {
            byte[] good = ser(f, valid("ok-0", 0, "a", "A", "b", "B"));
            Map<String, byte[]> undecodable = new java.util.LinkedHashMap<>();
            undecodable.put("bad-magic-byte", withFirstByte(good, (byte) 1));
            undecodable.put("unknown-schema-id", withSchemaId(good, 987654));
            undecodable.put("truncated", java.util.Arrays.copyOf(good, good.length - 5));
            Map<String, byte[]> invalid = new java.util.LinkedHashMap<>();
            invalid.put("embedding-length", ser(f, withEmbedding(valid("b1", 1, "c", "A"), new byte[6])));
            invalid.put("non-finite-embedding", ser(f, withEmbedding(valid("b2", 2, "c", "A"), floats(Float.NaN, 1f))));
            invalid.put("empty-id", ser(f, valid("b3", 3, "", "A")));
            invalid.put("duplicate-sample-id", ser(f, valid("b4", 4, "c", "A", "c", "B")));
            invalid.put("batch-too-large", ser(f, valid("b5", 5, "c", "A", "d", "A", "e", "B", "g", "B", "h", "C")));
            invalid.put("dim-too-large", ser(f, EmbeddingBatch.newBuilder(valid("b6", 6)).setDim(9)
                    .setSamples(List.of(new Sample("c", "A", ByteBuffer.wrap(new byte[36])))).build()));
            invalid.put("dim-mismatch", ser(f, EmbeddingBatch.newBuilder(valid("b7", 7)).setDim(3)
                    .setSamples(List.of(new Sample("c", "A", ByteBuffer.wrap(new byte[12])))).build()));

            f.rawInput.pipeInput("job", good);
            undecodable.values().forEach(b -> f.rawInput.pipeInput("job", b));
            invalid.values().forEach(b -> f.rawInput.pipeInput("job", b));
            f.send(valid("ok-1", 8, "d", "A", "e", "B"));

            List<TestRecord<String, MinedBatch>> mined = f.output.readRecordsToList();
            assertThat(mined).extracting(r -> r.value().getBatchId()).containsExactly("ok-0", "ok-1");
            assertThat(mined.get(1).value().getStats().getMemorySize()).isEqualTo(4);

            List<TestRecord<byte[], byte[]>> letters = f.dlq.readRecordsToList();
            assertThat(letters).extracting(r -> header(r, DeadLetters.REASON)).containsExactlyElementsOf(invalid.keySet());
            List<byte[]> sent = new ArrayList<>(invalid.values());
            for (int i = 0; i < letters.size(); i++) {
                TestRecord<byte[], byte[]> r = letters.get(i);
                assertThat(r.value()).as("original bytes of %s", header(r, DeadLetters.REASON)).isEqualTo(sent.get(i));
                assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("job");
                assertThat(header(r, DeadLetters.SOURCE_TOPIC)).isEqualTo(f.config.topics().embeddings());
                assertThat(header(r, DeadLetters.SOURCE_PARTITION)).isEqualTo("0");
                assertThat(header(r, DeadLetters.SOURCE_OFFSET)).isEqualTo(Integer.toString(4 + i));
                assertThat(header(r, DeadLetters.FAILED_AT)).isNotBlank();
                assertThat(header(r, DeadLetters.MESSAGE)).isNotBlank();
            }
            Map<String, Long> counted = f.deadLetters.snapshot();
            undecodable.keySet().forEach(reason -> assertThat(counted).containsEntry(reason, 1L));
            invalid.keySet().forEach(reason -> assertThat(counted).containsEntry(reason, 1L));
        }
    }

    private static byte[] ser(TopologyFixture f, EmbeddingBatch b) {
        return f.batches.serializer().serialize(f.config.topics().embeddings(), b);
    }

    /**
     * Without normalize an embedding of (1e20, 0) is finite but its float32 scores are not: the
     * whole batch is dead-lettered as it was published, with the reason non-finite-embedding,
     * before any shard mines part of it. With the job's override normalize = true the same
     * embedding enters the memory with norm 1 and is mined.
     */
    @Test
    void anEmbeddingTooLargeForFloatScoresIsDeadLetteredUnlessTheJobNormalizes() {
        try (TopologyFixture f = fixture("mining.normalize", "false", "shards.per-job", "2")) {
            f.send(valid("ok-0", 0, "a", "A", "b", "B"));
            byte[] huge = ser(f, withEmbedding(valid("big-1", 1, "c", "A", "d", "B"), floats(1e20f, 0f)));
            f.rawInput.pipeInput("job", huge);
            f.jobConfigs.pipeInput("job", JobConfig.newBuilder().setJobId("job").setNormalize(true).build());
            f.rawInput.pipeInput("job", ser(f, withEmbedding(valid("big-2", 2, "e", "A", "g", "B"), floats(1e20f, 0f))));

            List<TestRecord<byte[], byte[]>> letters = f.dlq.readRecordsToList();
            assertThat(letters).hasSize(1);
            assertThat(header(letters.get(0), DeadLetters.REASON)).isEqualTo("non-finite-embedding");
            assertThat(header(letters.get(0), DeadLetters.MESSAGE)).contains("squared L2 norm");
            assertThat(letters.get(0).value()).isEqualTo(huge);
            assertThat(f.output.readValuesToList()).extracting(MinedBatch::getBatchId)
                    .doesNotContain("big-1").contains("ok-0", "big-2");
        }
    }

    @Test
    void jobConfigOverrideAppliesFromTheNextBatch() {
        try (TopologyFixture f = fixture()) {
            f.send(valid("b0", 0, "a", "A", "b", "B", "c", "A"));
            f.jobConfigs.pipeInput("job", JobConfig.newBuilder().setJobId("job").setStrategy("all").setMargin(5f)
                    .setMemoryMaxEmbeddings(4).build());
            f.send(valid("b1", 1, "d", "A", "e", "B"));
            f.jobConfigs.pipeInput("job", JobConfig.newBuilder().setJobId("job").setStrategy("no-such-strategy").build());
            f.send(valid("b2", 2, "g", "A", "h", "B"));

            List<MinedBatch> out = f.output.readValuesToList();
            assertThat(out).extracting(MinedBatch::getStrategy).containsExactly("batch-hard", "all", "batch-hard");
            assertThat(out).extracting(MinedBatch::getMargin).containsExactly(0.2f, 5f, 0.2f);
            assertThat(out.get(1).getStats().getMemorySize()).isEqualTo(4);
            assertThat(out.get(2).getStats().getMemorySize()).isEqualTo(6);
            assertThat(f.deadLetters.snapshot()).as("the rejected JobConfig counted as a dead letter")
                    .containsEntry(InvalidJobConfigException.INVALID, 1L);
        }
    }

    @Test
    void withShardingEachIdentityIsMinedInExactlyOneShard() {
        List<EmbeddingBatch> batches = SyntheticLog.batches(13, 6, 8, 3, 4);
        try (TopologyFixture f = fixture("shards.per-job", "3", "mining.strategy", "all", "mining.margin", "10")) {
            batches.forEach(f::send);
            List<MinedBatch> out = f.output.readValuesToList();
            assertThat(out.size()).isGreaterThan(batches.size());
            Map<String, Set<Integer>> shardsOfLabel = new HashMap<>();
            for (MinedBatch m : out) {
                Set<Integer> shards = new HashSet<>();
                for (Triplet t : m.getTriplets()) {
                    shards.add(ShardSplitter.shardOf(t.getAnchorLabel(), 3));
                    shards.add(ShardSplitter.shardOf(t.getNegativeLabel(), 3));
                    shardsOfLabel.computeIfAbsent(t.getAnchorLabel(), l -> new HashSet<>())
                            .add(ShardSplitter.shardOf(t.getAnchorLabel(), 3));
                }
                assertThat(shards).as("shards mixed in batch %s", m.getBatchId()).hasSizeLessThanOrEqualTo(1);
            }
            assertThat(shardsOfLabel.values()).allSatisfy(s -> assertThat(s).hasSize(1));
            long anchors = out.stream().mapToLong(m -> m.getStats().getAnchors()).sum();
            assertThat(anchors).isEqualTo(batches.stream().mapToLong(b -> b.getSamples().size()).sum());
        }
    }

    @ParameterizedTest(name = "shards.per-job={0}")
    @ValueSource(ints = {1, 3})
    void theMemorySummaryReadFromTheStoreIsTheJobsWholeMemory(int shards) {
        List<EmbeddingBatch> batches = SyntheticLog.batches(21, 10, 6, 3, 4);
        try (TopologyFixture f = fixture("shards.per-job", Integer.toString(shards))) {
            batches.forEach(f::send);
            KeyValueStore<Bytes, byte[]> store = f.driver.getKeyValueStore(MemoryStore.NAME);
            for (String job : List.of("job-0", "job-1")) {
                // Unbounded memory: every distinct sample id of the job, at the step it was last seen.
                Map<String, Long> stepOf = new HashMap<>();
                Map<String, String> labelOf = new HashMap<>();
                batches.stream().filter(b -> b.getJobId().equals(job)).forEach(b -> b.getSamples().forEach(x -> {
                    stepOf.put(x.getSampleId(), b.getStep());
                    labelOf.put(x.getSampleId(), x.getLabel());
                }));
                MemorySummary summary = MemoryStore.summarize(store, job);
                assertThat(summary).isEqualTo(new MemorySummary(stepOf.size(), new HashSet<>(labelOf.values()).size(),
                        stepOf.values().stream().mapToLong(Long::longValue).min().orElseThrow(),
                        stepOf.values().stream().mapToLong(Long::longValue).max().orElseThrow(), 4));
            }
            assertThat(MemoryStore.summarize(store, "job")).as("a prefix of a job id is another job").isNull();
            assertThat(MemoryStore.summarize(store, "job-2")).isNull();
        }
    }

    /** Memory samples as "id label step [floats]", the floats decoded from little-endian bytes. */
    private static List<String> describeSamples(List<MemorySample> samples) {
        return samples.stream().map(x -> {
            float[] values = new float[x.getEmbedding().remaining() / 4];
            Embeddings.decodeLittleEndian(x.getEmbedding(), values, 0, values.length);
            return x.getSampleId() + " " + x.getLabel() + " " + x.getStep() + " " + Arrays.toString(values);
        }).toList();
    }

    private static List<String> describeCoreSamples(List<MemoryBank.Entry> entries) {
        return entries.stream().map(e -> e.sampleId() + " " + e.label() + " " + e.step() + " "
                + Arrays.toString(e.embedding())).toList();
    }

    /** A batch's parts by shard, in the order ShardSplitter forwards them (the batch itself when unsharded). */
    private static List<Map.Entry<Integer, EmbeddingBatch>> parts(EmbeddingBatch b, int shards) {
        List<Map.Entry<Integer, EmbeddingBatch>> out = new ArrayList<>();
        for (int s = 0; s < shards; s++) {
            int shard = s;
            List<Sample> part = b.getSamples().stream()
                    .filter(x -> shards == 1 || ShardSplitter.shardOf(x.getLabel(), shards) == shard).toList();
            if (!part.isEmpty()) {
                out.add(Map.entry(shard, EmbeddingBatch.newBuilder(b).setSamples(new ArrayList<>(part)).build()));
            }
        }
        return out;
    }

    @ParameterizedTest(name = "shards.per-job={0}")
    @ValueSource(ints = {1, 3})
    void memorySamplesAreTheCoresSelectionFromTheJobsMemoryForTheJobThatAsksOnly(int shards) {
        List<EmbeddingBatch> batches = SyntheticLog.batches(23, 12, 6, 3, 4);
        try (TopologyFixture f = fixture("shards.per-job", Integer.toString(shards))) {
            f.jobConfigs.pipeInput("job-0", JobConfig.newBuilder().setJobId("job-0").setMemoryNegatives(3)
                    .setMemoryPositives(1).build());
            batches.forEach(f::send);
            List<MinedBatch> out = f.output.readValuesToList();

            MiningSettings asked = f.config.mining().withMemorySampling(
                    new MemorySampling(3, 1, MemorySampling.DEFAULT_MAX_BYTES));
            MemoryLimits limits = JobSettings.resolve(f.config, null).boundedBy(f.config.memoryMaxBytes(), 4);
            Map<String, JobMiner> core = new HashMap<>();
            Map<String, ByteBuffer> published = new HashMap<>();
            int next = 0;
            int sent = 0;
            try {
                for (EmbeddingBatch b : batches) {
                    b.getSamples().forEach(x -> published.put(b.getJobId() + "/" + x.getSampleId(), x.getEmbedding()));
                    boolean asks = b.getJobId().equals("job-0");
                    for (Map.Entry<Integer, EmbeddingBatch> part : parts(b, shards)) {
                        MinedBatch m = out.get(next++);
                        assertThat(m.getBatchId()).isEqualTo(b.getBatchId());
                        JobMiner miner = core.computeIfAbsent(b.getJobId() + "#" + part.getKey(), k -> new JobMiner(limits));
                        MiningResult expected = miner.mine(EmbeddingBatches.toSampleBatch(part.getValue(),
                                InputLimits.defaults()), asks ? asked : f.config.mining());
                        assertThat(describeSamples(m.getMemorySamples())).as("batch %s", m.getBatchId())
                                .containsExactlyElementsOf(describeCoreSamples(expected.memorySamples()));
                        if (!asks) {
                            assertThat(m.getMemorySamples()).isEmpty();
                        }
                        for (MemorySample x : m.getMemorySamples()) {
                            // The bytes sent back are the bytes the sample was last published with.
                            assertThat(x.getEmbedding()).isEqualTo(published.get(b.getJobId() + "/" + x.getSampleId()));
                            if (shards > 1) {
                                assertThat(ShardSplitter.shardOf(x.getLabel(), shards)).isEqualTo(part.getKey());
                            }
                        }
                        sent += m.getMemorySamples().size();
                    }
                }
            } finally {
                core.values().forEach(JobMiner::close);
            }
            assertThat(next).isEqualTo(out.size());
            assertThat(sent).as("samples sent back to job-0").isGreaterThan(batches.size());
        }
    }

    @Test
    void memorySamplesStopBeforeTheFirstThatWouldExceedTheByteBound(@TempDir Path otherStateDir) {
        // 4-d embeddings and ids like "j0-s12"/"id7": about 16 + 6 + 3 + 8 = 33 bytes a sample.
        List<EmbeddingBatch> batches = SyntheticLog.batches(24, 6, 6, 3, 4);
        int bound = 200;
        try (TopologyFixture bounded = fixture("mining.memory-negatives", "4", "mining.memory-positives", "2",
                "mining.memory-samples-max-bytes", Integer.toString(bound));
             TopologyFixture unbounded = new TopologyFixture(properties("mining.memory-negatives", "4",
                     "mining.memory-positives", "2"), otherStateDir)) {
            batches.forEach(bounded::send);
            batches.forEach(unbounded::send);
            List<MinedBatch> cut = bounded.output.readValuesToList();
            List<MinedBatch> whole = unbounded.output.readValuesToList();
            for (int i = 0; i < batches.size(); i++) {
                List<String> all = describeSamples(whole.get(i).getMemorySamples());
                List<String> kept = describeSamples(cut.get(i).getMemorySamples());
                long bytes = cut.get(i).getMemorySamples().stream()
                        .mapToLong(x -> MemorySampling.bytesOf(4, x.getSampleId(), x.getLabel())).sum();
                assertThat(bytes).isLessThanOrEqualTo(bound);
                // A prefix of the unbounded selection, cut right before the sample that does not fit.
                assertThat(all).startsWith(kept.toArray(String[]::new));
                if (kept.size() < all.size()) {
                    MemorySample first = whole.get(i).getMemorySamples().get(kept.size());
                    assertThat(bytes + MemorySampling.bytesOf(4, first.getSampleId(), first.getLabel()))
                            .isGreaterThan(bound);
                }
            }
            assertThat(whole).anySatisfy(m -> assertThat(m.getMemorySamples().size()).isGreaterThan(6));
        }
    }

    @ParameterizedTest(name = "shards.per-job={0}")
    @ValueSource(ints = {1, 3})
    void neighborsAreTheDecayedConfusionsOfTheMinedTripletsForTheJobThatAsksOnly(int shards) {
        List<EmbeddingBatch> batches = SyntheticLog.batches(25, 12, 6, 3, 4);
        double halfLife = 3;
        try (TopologyFixture f = fixture("shards.per-job", Integer.toString(shards))) {
            f.jobConfigs.pipeInput("job-0", JobConfig.newBuilder().setJobId("job-0").setNeighborsPerIdentity(100)
                    .setNeighborsHalfLifeSteps(halfLife).build());
            batches.forEach(f::send);
            List<MinedBatch> mined = f.output.readValuesToList();
            List<TestRecord<String, IdentityNeighbors>> published = f.neighborsOutput.readRecordsToList();

            // Brute force: every (anchor label, negative label, step) event so far, summed with its decay.
            Map<String, List<Triplet>> eventsOf = new HashMap<>();
            Map<String, List<Long>> stepsOf = new HashMap<>();
            int next = 0;
            for (MinedBatch m : mined) {
                if (!m.getJobId().equals("job-0")) {
                    continue;
                }
                List<String> touched = new ArrayList<>();
                for (Triplet t : m.getTriplets()) {
                    eventsOf.computeIfAbsent(t.getAnchorLabel(), l -> new ArrayList<>()).add(t);
                    stepsOf.computeIfAbsent(t.getAnchorLabel(), l -> new ArrayList<>()).add(m.getStep());
                    if (!touched.contains(t.getAnchorLabel())) {
                        touched.add(t.getAnchorLabel());
                    }
                }
                for (String label : touched) {
                    TestRecord<String, IdentityNeighbors> r = published.get(next++);
                    assertThat(r.key()).isEqualTo("job-0/" + label);
                    long newest = stepsOf.get(label).stream().mapToLong(Long::longValue).max().orElseThrow();
                    Map<String, Double> score = new HashMap<>();
                    Map<String, Long> count = new HashMap<>();
                    List<Triplet> events = eventsOf.get(label);
                    for (int e = 0; e < events.size(); e++) {
                        String other = events.get(e).getNegativeLabel();
                        score.merge(other, Math.pow(2, -(newest - stepsOf.get(label).get(e)) / halfLife), Double::sum);
                        count.merge(other, 1L, Long::sum);
                    }
                    IdentityNeighbors got = r.value();
                    assertThat(got.getStep()).isEqualTo(newest);
                    assertThat(got.getNeighbors()).extracting(Neighbor::getLabel)
                            .containsExactlyInAnyOrderElementsOf(score.keySet());
                    for (Neighbor n : got.getNeighbors()) {
                        assertThat(n.getScore()).as("%s -> %s", label, n.getLabel())
                                .isCloseTo(score.get(n.getLabel()), within(1e-9));
                        assertThat(n.getCount()).isEqualTo(count.get(n.getLabel()));
                        if (shards > 1) {
                            assertThat(ShardSplitter.shardOf(n.getLabel(), shards))
                                    .isEqualTo(ShardSplitter.shardOf(label, shards));
                        }
                    }
                    for (int k = 1; k < got.getNeighbors().size(); k++) {
                        assertThat(got.getNeighbors().get(k).getScore())
                                .isLessThanOrEqualTo(got.getNeighbors().get(k - 1).getScore());
                    }
                }
            }
            assertThat(next).as("every record is a job-0 label's, none of job-1").isEqualTo(published.size());
            assertThat(published).hasSizeGreaterThan(6);
        }
    }
}
