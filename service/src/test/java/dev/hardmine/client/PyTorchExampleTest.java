package dev.hardmine.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.MemorySample;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.Sample;
import dev.hardmine.avro.Triplet;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.client.Topics;
import dev.hardmine.testing.DemoProcess;
import dev.hardmine.testing.PyTorchExample;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.LongStream;
import org.apache.kafka.common.serialization.Deserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PyTorch example of {@code examples/python} against {@code hardmine demo --no-synthetic}, both
 * as child processes, as a user runs them. The example trains twice: in its default mode (memory
 * samples from hardmine in an XBM-style contrastive loss, batches of confusable identities from
 * hardmine's neighbours) and feeding mined triplets into its batches; each test checks one thing, from what the example reports and, independently, from
 * what is on Kafka. Missing Debian packages (python3-torch, python3-confluent-kafka, python3-avro,
 * python3-requests) fail the tests: CI installs them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class PyTorchExampleTest {
    private static final int STEPS = 150;
    private static final String JOB = "pytorch-example-test";
    private static final String TRIPLETS_JOB = "pytorch-example-test-triplets";
    private static final String WORKER = "worker-7";
    /** The memory mode's loss takes the memory from this step on (the example's default is 100). */
    private static final int MEMORY_START = 50;
    /** The example's --max-lead: half its --max-staleness (50), so the newest mined batch is always fresh. */
    private static final int MAX_LEAD = 25;

    private DemoProcess demo;
    private String bootstrap;
    private String registryUrl;
    private JsonNode summary;
    private List<EmbeddingBatch> published;
    private List<MinedBatch> mined;
    private List<IdentityNeighbors> neighbors;
    private JsonNode tripletsSummary;
    private List<EmbeddingBatch> tripletsPublished;
    private List<MinedBatch> tripletsMined;

    @BeforeAll
    void trainAgainstTheDemo(@TempDir Path tmp) throws Exception {
        PyTorchExample.requirePackages(tmp);

        demo = DemoProcess.start(tmp, Map.of(), "--no-synthetic");
        bootstrap = demo.bootstrapServers();
        registryUrl = demo.registryUrl();

        // The default mode, with nothing but where hardmine is, a shorter warm-up for a short run, and a
        // bounded lead over the miner: on a busy machine a stall of the miner let the example run more
        // than --max-staleness steps ahead, and 43 of 100 steps found no fresh memory entry.
        summary = train(tmp, JOB, "--memory-start", "" + MEMORY_START, "--max-lead", "" + MAX_LEAD);
        tripletsSummary = train(tmp, TRIPLETS_JOB, "--feed-mode", "triplets", "--loss", "batch-hard",
                "--sampler", "random", "--max-lead", "" + MAX_LEAD);

        try (SchemaRegistryClient registry = SchemaRegistryClient.forUrl(registryUrl)) {
            AvroDeserializer<EmbeddingBatch> batches = new AvroDeserializer<>(EmbeddingBatch.class, registry);
            AvroDeserializer<MinedBatch> mines = new AvroDeserializer<>(MinedBatch.class, registry);
            published = readAll("hardmine.embeddings", batches, b -> b.getJobId().equals(JOB), STEPS);
            mined = readAll("hardmine.mined", mines, b -> b.getJobId().equals(JOB) && b.getWorkerId().equals(WORKER), STEPS);
            tripletsPublished = readAll("hardmine.embeddings", batches, b -> b.getJobId().equals(TRIPLETS_JOB), STEPS);
            neighbors = readAll("hardmine.neighbors", new AvroDeserializer<>(IdentityNeighbors.class, registry),
                    n -> n.getJobId().equals(JOB), summary.get("neighbor_records").asInt());
            tripletsMined = readAll("hardmine.mined", mines,
                    b -> b.getJobId().equals(TRIPLETS_JOB) && b.getWorkerId().equals(WORKER), STEPS);
        }
    }

    private JsonNode train(Path tmp, String job, String... flags) throws Exception {
        return PyTorchExample.train(tmp, bootstrap, registryUrl, job, WORKER, STEPS, flags);
    }

    @AfterAll
    void stopTheDemo() throws InterruptedException {
        if (demo != null) {
            demo.close();
        }
    }

    @Test
    void theExamplePublishedEveryStepAndHardmineMinedEachOfItsBatches() {
        assertThat(summary.get("steps").asInt()).isEqualTo(STEPS);
        assertThat(summary.get("published").asInt()).isEqualTo(STEPS);
        assertThat(published).extracting(EmbeddingBatch::getStep)
                .containsExactlyElementsOf(LongStream.range(0, STEPS).boxed().toList());
        assertThat(mined).extracting(MinedBatch::getBatchId)
                .containsExactlyElementsOf(published.stream().map(EmbeddingBatch::getBatchId).toList());
        assertThat(mined).filteredOn(b -> !b.getTriplets().isEmpty()).hasSizeGreaterThan(STEPS / 2);
        assertThat(tripletsMined).extracting(MinedBatch::getBatchId)
                .containsExactlyElementsOf(tripletsPublished.stream().map(EmbeddingBatch::getBatchId).toList());
    }

    /**
     * The default mode: the example asks hardmine (JobConfig) for each anchor's 16 nearest memory
     * negatives and 4 farthest positives, keeps what comes back in a memory of 2 048, and adds it
     * to its contrastive loss from the warm-up step on. What it says it received is what Kafka
     * holds for it, sample ids of its own dataset, 32-d float32.
     */
    @Test
    void theDefaultModeTrainsWithTheMemorySamplesHardmineSentBack() {
        assertThat(summary.get("feed_mode").asText()).isEqualTo("memory");
        assertThat(summary.get("loss").asText()).isEqualTo("contrastive");
        assertThat(summary.get("sampler").asText()).isEqualTo("neighbors");
        assertThat(summary.get("memory_negatives").asInt()).isEqualTo(16);
        assertThat(summary.get("memory_positives").asInt()).isEqualTo(4);

        List<MemorySample> sent = mined.stream().flatMap(b -> b.getMemorySamples().stream()).toList();
        assertThat(sent).hasSizeGreaterThan(STEPS * 64); // 64 anchors, 20 places each, shared ones sent once
        assertThat(sent).allSatisfy(x -> {
            assertThat(x.getSampleId()).matches("s\\d+");
            assertThat(x.getLabel()).matches("id\\d+");
            assertThat(x.getEmbedding().remaining()).isEqualTo(4 * 32);
        });
        // Every mined batch the example read came with its samples: it read all but the last few.
        long received = summary.get("memory_samples_received").asLong();
        assertThat(received).isPositive().isLessThanOrEqualTo(sent.size()).isGreaterThan(sent.size() * 3L / 4);
        assertThat(summary.get("first_memory_step").asInt()).isLessThan(10);
        // From the warm-up on, the loss had a memory many batches (of 64) large: how full it is depends on
        // how far the miner trails the trainer (entries more than 50 steps old are not used), over 1 000
        // of 2 048 when alone on two cores, 867 once on a busier machine. The example never runs more
        // than MAX_LEAD steps ahead of the newest mined batch, so the memory is never all stale.
        assertThat(summary.get("max_lead").asInt()).isEqualTo(MAX_LEAD);
        assertThat(summary.get("memory_used_mean").asDouble()).as("%s", summary)
                .isGreaterThan(512).isLessThanOrEqualTo(2048);
        assertThat(summary.get("memory_steps").asInt()).isEqualTo(STEPS - MEMORY_START);
        assertThat(summary.get("memory_empty_steps").asInt()).as("%s", summary)
                .isLessThanOrEqualTo((STEPS - MEMORY_START) / 4);
    }

    @Test
    void theExampleReadItsOwnPartitionWithKafkasDefaultPartitioner() {
        int partitions = 3; // the demo's topics
        assertThat(summary.get("mined_partition").asInt())
                .isEqualTo(MinedBatchSubscriber.partitionOf(Topics.minedKey(JOB, WORKER), partitions));
        assertThat(summary.get("mined_consumed").asInt()).isPositive().isLessThanOrEqualTo(STEPS);
    }

    /**
     * The example puts each fed triplet at the end of its batch as (anchor, positive, negative),
     * after its P × K random samples: the published batches end with triplets that hardmine mined
     * from earlier steps, as many as the example says it fed.
     */
    @Test
    void laterBatchesEndWithTheTripletsHardmineMinedFromEarlierOnes() {
        Map<List<String>, Long> minedAt = new HashMap<>();
        for (MinedBatch b : tripletsMined) {
            for (Triplet t : b.getTriplets()) {
                minedAt.merge(List.of(t.getAnchorId(), t.getPositiveId(), t.getNegativeId()), b.getStep(), Math::min);
            }
        }
        int fedSamples = 0;
        long firstFedStep = -1;
        for (EmbeddingBatch batch : tripletsPublished) {
            List<String> ids = batch.getSamples().stream().map(Sample::getSampleId).toList();
            // The last K >= 3 random samples share one identity, so the scan stops at the random part.
            for (int end = ids.size(); end >= 3; end -= 3) {
                Long source = minedAt.get(ids.subList(end - 3, end));
                if (source == null || source >= batch.getStep()) {
                    break;
                }
                fedSamples += 3;
                firstFedStep = firstFedStep < 0 ? batch.getStep() : firstFedStep;
            }
        }

        assertThat(fedSamples).isPositive().isEqualTo(tripletsSummary.get("fed_samples").asInt());
        assertThat(firstFedStep).isEqualTo(tripletsSummary.get("first_fed_step").asLong());
        assertThat(tripletsSummary.get("steps_with_fed").asInt()).isGreaterThan(STEPS / 2);
        assertThat(summary.get("fed_samples").asInt()).as("the default mode feeds no triplets").isZero();
    }

    /**
     * The default mode's batches: half groups of 4 mutually confusable identities, built from the
     * hard-identity neighbours hardmine publishes for the job. A batch's first identity seeds the
     * first group, so its second identity is one of the first's neighbours on the topic.
     */
    @Test
    void theDefaultModesBatchesGroupIdentitiesWithTheirHardmineNeighbours() {
        assertThat(summary.get("neighbor_records").asInt()).isPositive().isLessThanOrEqualTo(neighbors.size());
        assertThat(summary.get("identities_with_neighbors").asInt()).isGreaterThan(100);
        Map<String, Set<String>> everNeighbors = new HashMap<>();
        neighbors.forEach(n -> n.getNeighbors().forEach(x ->
                everNeighbors.computeIfAbsent(n.getLabel(), l -> new HashSet<>()).add(x.getLabel())));
        List<EmbeddingBatch> later = published.stream().filter(b -> b.getStep() >= 50).toList();
        long grouped = later.stream().filter(b -> {
            String first = b.getSamples().get(0).getLabel();
            String second = b.getSamples().get(4).getLabel(); // K = 4 images per identity
            return everNeighbors.getOrDefault(first, Set.of()).contains(second);
        }).count();
        assertThat(grouped).as("batches from step 50 whose first group is a seed and its neighbour")
                .isGreaterThan(later.size() * 9L / 10);
    }

    @Test
    void bothRunsLearn() {
        // The batch-hard loss falls; the contrastive loss gains its memory term at the warm-up, so compare recall.
        assertThat(tripletsSummary.get("loss_last").asDouble()).isLessThan(tripletsSummary.get("loss_first").asDouble());
        assertThat(summary.get("recall_at_1").asDouble()).isGreaterThan(summary.get("recall_at_1_init").asDouble() + 0.05);
    }

    private <T> List<T> readAll(String topic, Deserializer<T> values, Predicate<T> ours, int expected) {
        return PyTorchExample.readAll(bootstrap, topic, values, ours, expected);
    }
}
