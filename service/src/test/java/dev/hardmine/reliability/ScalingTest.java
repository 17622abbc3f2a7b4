package dev.hardmine.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.testing.ExactlyOnce;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.MinedTopicReader;
import dev.hardmine.testing.PacedPublisher;
import dev.hardmine.testing.RunProcess;
import dev.hardmine.testing.SharedKafkaBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances of {@code hardmine run} (child processes, one application id, a state directory
 * and HTTP port each), a third added and then one of the first stopped with SIGTERM, while batches
 * of several jobs flow in. Throughout, every live instance is asked for every job's memory: each
 * answer is either complete — every partition read, exactly once — and consistent (a job once seen
 * is never "held by nobody", its newest step never goes back, its dimension is the batches'), or
 * says {@code complete=false}; never an error. At the end both remaining instances give the same
 * complete memory, that of the last batch mined of each job, and every batch was mined exactly
 * once, as an offline replay mines it.
 *
 * <p>The suite runs 200 small batches (dimension 16); more is {@code -Dscaling.batches=2000}.
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class ScalingTest {
    private static final int BATCHES = Integer.getInteger("scaling.batches", 200);
    private static final int JOBS = Integer.getInteger("scaling.jobs", 4);
    private static final int PARTITIONS = 6;
    /** Publishing spans about 40 s, whatever the number of batches. */
    private static final Duration PUBLISH_INTERVAL = Duration.ofMillis(Math.max(5, 40_000L / BATCHES));
    private static final MemoryLimits MEMORY = new MemoryLimits(4, 256, 0);
    private static final long MEMORY_MAX_BYTES = 64L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** What the poller saw: answers by kind, and every answer that broke the rule. */
    private static final class Answers {
        final AtomicInteger complete = new AtomicInteger();
        final AtomicInteger incomplete = new AtomicInteger();
        final AtomicInteger notYetMined = new AtomicInteger();
        final List<String> violations = new CopyOnWriteArrayList<>();
        final Map<String, Long> newestStepSeen = new ConcurrentHashMap<>();
    }

    @Test
    void twoThenThreeThenTwoInstancesMineEveryBatchOnceAndTheirMemoryAnswersAreCompleteOrSayTheyAreNot(
            EmbeddedKafkaBroker kafka) throws Exception {
        List<EmbeddingBatch> input = ExactlyOnce.batchesOfJobs(31, BATCHES, JOBS);
        List<String> jobs = input.stream().map(EmbeddingBatch::getJobId).distinct().sorted().toList();
        try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.builder().start();
             LiveMining live = new LiveMining(kafka, registry.url(), tmp);
             MinedTopicReader mined = new MinedTopicReader(live.bootstrapServers(), live.registryUrl(),
                     live.topics().mined())) {
            List<String> serving = new CopyOnWriteArrayList<>();
            Answers answers = new Answers();
            PacedPublisher publisher = new PacedPublisher(input, PUBLISH_INTERVAL, live::send);
            Thread poller = new Thread(() -> poll(serving, jobs, answers), "memory-poller");
            poller.setDaemon(true);
            try (RunProcess a = instance(live, "a");
                 RunProcess b = instance(live, "b")) {
                serving.add(a.httpUrl());
                serving.add(b.httpUrl());
                publisher.start();
                poller.start();
                mined.awaitAtLeast(BATCHES / 4, Duration.ofMinutes(3), b);
                try (RunProcess c = instance(live, "c")) {
                    serving.add(c.httpUrl());
                    mined.awaitAtLeast(BATCHES / 2, Duration.ofMinutes(3), c);
                    serving.remove(a.httpUrl()); // no longer asked: it is going
                    a.process().destroy(); // SIGTERM: an orderly stop, leaving the group
                    assertThat(a.process().waitFor(60, TimeUnit.SECONDS)).as("stopped within 60 s").isTrue();
                    assertThat(a.process().exitValue()).as("exit code after SIGTERM:%n%s", a.output()).isZero();

                    publisher.awaitDone(Duration.ofMinutes(5));
                    mined.awaitAtLeast(input.size(), Duration.ofMinutes(5), b,
                            () -> diagnosis(input, mined, live, List.of(a, b, c)));
                    mined.readFor(Duration.ofSeconds(3));
                    poller.interrupt();
                    poller.join(30_000);

                    Map<String, MinedBatch> lastOfJob = lastMinedOfEachJob(mined.byBatch());
                    for (String url : List.of(b.httpUrl(), c.httpUrl())) {
                        for (String job : jobs) {
                            JsonNode m = settledMemory(url, job);
                            MinedBatch last = lastOfJob.get(job);
                            assertThat(m.get("size").asLong()).as("%s of %s at the end", job, url)
                                    .isEqualTo(last.getStats().getMemorySize());
                            assertThat(m.get("newest_step").asLong()).isEqualTo(last.getStep());
                        }
                    }
                    assertThat(b.process().isAlive()).isTrue();
                    assertThat(c.process().isAlive()).isTrue();
                }
            }
            assertThat(answers.violations).as("memory answers that were neither complete and consistent nor "
                    + "said to be incomplete").isEmpty();
            assertThat(answers.complete.get()).as("complete answers during the run").isPositive();
            ExactlyOnce.assertMinedOnceAsReplayed(mined.byBatch(), input, MEMORY, MEMORY_MAX_BYTES);
            System.out.printf("scaling 2 -> 3 -> 2: %d batches of %d jobs each mined exactly once and as the replay "
                            + "mines it; memory asked %d times during the run: %d complete, %d complete=false, "
                            + "%d before the job's first batch, 0 errors; %d MinedBatch records written in all%n",
                    input.size(), JOBS, answers.complete.get() + answers.incomplete.get() + answers.notYetMined.get(),
                    answers.complete.get(), answers.incomplete.get(), answers.notYetMined.get(),
                    mined.uncommittedCount());
        }
    }

    /** Which batches are not mined, how many dead letters there are, and what each instance printed. */
    private static String diagnosis(List<EmbeddingBatch> input, MinedTopicReader mined, LiveMining live,
                                    List<RunProcess> instances) throws Exception {
        List<String> missing = input.stream()
                .filter(x -> !mined.byBatch().containsKey(ExactlyOnce.key(x)))
                .map(x -> ExactlyOnce.key(x) + " (step " + x.getStep() + ", partition "
                        + LiveMining.partitionOf(x.getJobId(), PARTITIONS) + ")")
                .toList();
        StringBuilder out = new StringBuilder("not mined: " + missing + "; dead letters: "
                + live.countMoreWithin(live.topics().dlq(), Duration.ofSeconds(2)));
        for (RunProcess instance : instances) {
            out.append(String.format("%n--- instance %s (%s):%n%s", instance.process().pid(),
                    instance.process().isAlive() ? "running" : "exited", instance.output()));
        }
        return out.toString();
    }

    private RunProcess instance(LiveMining live, String name) throws Exception {
        Properties properties = live.properties(
                "http.port", "0",
                "topics.partitions", Integer.toString(PARTITIONS),
                "memory.per-identity", Integer.toString(MEMORY.perIdentity()),
                "memory.max-embeddings", Integer.toString(MEMORY.maxEmbeddings()),
                "memory.max-bytes", Long.toString(MEMORY_MAX_BYTES),
                "kafka.session.timeout.ms", "6000",
                "kafka.heartbeat.interval.ms", "1000");
        return RunProcess.start(Files.createDirectories(tmp.resolve(name)), properties, live.topics().embeddings());
    }

    /** Asks every serving instance for one job's memory in turn, until interrupted. */
    private void poll(List<String> serving, List<String> jobs, Answers answers) {
        for (int round = 0; !Thread.currentThread().isInterrupted(); round++) {
            String job = jobs.get(round % jobs.size());
            for (String url : serving) {
                try {
                    check(url, job, memory(url, job), answers);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    if (serving.contains(url)) {
                        answers.violations.add(url + " " + job + ": " + e);
                    }
                }
            }
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void check(String url, String job, HttpResponse<String> r, Answers answers) throws Exception {
        String what = url + " " + job + ": HTTP " + r.statusCode() + " " + r.body();
        if (r.statusCode() == 404) {
            if (answers.newestStepSeen.containsKey(job)) {
                answers.violations.add("held by nobody after it was seen: " + what);
            }
            answers.notYetMined.incrementAndGet();
            return;
        }
        if (r.statusCode() != 200) {
            answers.violations.add(what);
            return;
        }
        JsonNode m = JSON.readTree(r.body());
        if (!m.get("complete").asBoolean()) {
            answers.incomplete.incrementAndGet();
            return;
        }
        answers.complete.incrementAndGet();
        List<Integer> read = new ArrayList<>();
        m.path("partitions").forEach(p -> read.add(p.asInt()));
        long newest = m.path("newest_step").asLong(-1);
        Long before = answers.newestStepSeen.put(job, Math.max(newest, answers.newestStepSeen.getOrDefault(job, -1L)));
        if (read.size() != PARTITIONS || m.path("dim").asInt() != 16 || !m.has("size")
                || before != null && newest < before) {
            answers.violations.add("complete but not consistent (partitions read " + read + ", newest step before "
                    + before + "): " + what);
        }
    }

    private HttpResponse<String> memory(String url, String job) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url + "api/jobs/" + job + "/memory"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The job's memory once the instances agree on who holds what (a rebalance may still be ending). */
    private JsonNode settledMemory(String url, String job) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode m;
        do {
            HttpResponse<String> r = memory(url, job);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            m = JSON.readTree(r.body());
            if (m.get("complete").asBoolean()) {
                return m;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("no complete memory of " + job + " from " + url + " within 60 s: " + m);
    }

    private static Map<String, MinedBatch> lastMinedOfEachJob(Map<String, List<MinedBatch>> byBatch) {
        Map<String, MinedBatch> last = new ConcurrentHashMap<>();
        byBatch.values().stream().map(l -> l.get(0)).sorted(Comparator.comparingLong(MinedBatch::getStep))
                .forEach(m -> last.put(m.getJobId(), m));
        return last;
    }
}
