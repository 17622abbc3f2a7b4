package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.stream.MemorySummary;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WebServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final StatsBoard board = new StatsBoard();
    private final AtomicBoolean ready = new AtomicBoolean(false);
    private final HttpClient http = HttpClient.newHttpClient();
    private WebServer server;

    private final Map<String, MemorySummary> memory = new ConcurrentHashMap<>();
    private final Map<String, Long> deadLetters = new ConcurrentHashMap<>();
    private final List<String> peers = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> others = new ArrayList<>();

    /** A miner whose answers the test sets. */
    private final class FakeMiner implements MinerView {
        final Map<String, MemorySummary> memory;
        final List<String> peers;

        FakeMiner(Map<String, MemorySummary> memory, List<String> peers) {
            this.memory = memory;
            this.peers = peers;
        }

        @Override
        public boolean running() {
            return ready.get();
        }

        @Override
        public MemorySummary localMemory(String jobId) {
            return memory.get(jobId);
        }

        @Override
        public List<String> otherInstances() {
            return peers;
        }

        @Override
        public Map<String, Long> deadLetters() {
            return deadLetters;
        }

        @Override
        public OptionalLong consumerLag() {
            return OptionalLong.of(42);
        }
    }

    @BeforeEach
    void start() throws Exception {
        server = new WebServer(new WebServer.Options("127.0.0.1", 0, null, null, Duration.ofMillis(100)), board);
        server.serve(new FakeMiner(memory, peers));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        for (AutoCloseable c : others) {
            c.close();
        }
    }

    private WebServer anotherInstance(Map<String, MemorySummary> memory, String token) throws Exception {
        WebServer other = new WebServer(new WebServer.Options("127.0.0.1", 0, token), new StatsBoard());
        other.serve(new FakeMiner(memory, List.of()));
        others.add(other);
        return other;
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.url() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static MiningStats window(String job, long start, long batches) {
        return MiningStats.newBuilder().setJobId(job).setWindowStart(Instant.ofEpochMilli(start))
                .setWindowEnd(Instant.ofEpochMilli(start + 2000)).setBatches(batches).setEmbeddings(batches * 64)
                .setTriplets(batches * 64).setHard(3).setSemiHard(5).setEasy(90).setMeanLossBatchHard(0.25)
                .setMeanLossSemiHard(0.1).setMeanLossWeighted(0.05).setMeanDAp(0.9).setMeanDAn(1.3)
                .setMemorySize(1000).setStalenessMean(2.5).setStalenessMax(7).setLatencyP50Ms(40)
                .setLatencyP99Ms(90).build();
    }

    @Test
    void servesTheLivePage() throws Exception {
        HttpResponse<String> page = get("");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(page.body()).contains("<title>hardmine</title>", "assets/uPlot.iife.min.js", "assets/dashboard.js");
    }

    @Test
    void listsJobsWithTheirLatestWindow() throws Exception {
        board.add(window("b-job", 10_000, 1));
        board.add(window("a-job", 10_000, 2));
        board.add(window("a-job", 12_000, 3));
        JsonNode jobs = JSON.readTree(get("api/jobs").body());
        assertThat(jobs).hasSize(2);
        assertThat(jobs.get(0).get("job_id").asText()).isEqualTo("a-job");
        assertThat(jobs.get(0).get("latest").get("batches").asLong()).isEqualTo(3);
        assertThat(jobs.get(0).get("latest").get("window_start").asLong()).isEqualTo(12_000);
    }

    @Test
    void statsSinceKeepTheWindowsEndingAfterItAndANewerVersionReplacesAWindow() throws Exception {
        board.add(window("job", 10_000, 1));
        board.add(window("job", 12_000, 1));
        board.add(window("job", 12_000, 4));
        JsonNode all = JSON.readTree(get("api/jobs/job/stats?since=0").body());
        assertThat(all).extracting(n -> n.get("batches").asLong()).containsExactly(1L, 4L);
        JsonNode recent = JSON.readTree(get("api/jobs/job/stats?since=12500").body());
        assertThat(recent).hasSize(1);
        assertThat(recent.get(0).get("mean_d_an").asDouble()).isEqualTo(1.3);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a+b", "50%off", "x/y", "with space", "ünï"})
    void jobIdsAreDecodedOnceWhateverTheyHold(String job) throws Exception {
        board.add(window(job, 10_000, 7));
        memory.put(job, new MemorySummary(3, 1, 0, 2, 4));
        String encoded = URLEncoder.encode(job, StandardCharsets.UTF_8).replace("+", "%20");
        JsonNode stats = JSON.readTree(get("api/jobs/" + encoded + "/stats").body());
        assertThat(stats).extracting(n -> n.get("job_id").asText()).containsExactly(job);
        HttpResponse<String> m = get("api/jobs/" + encoded + "/memory");
        assertThat(m.statusCode()).as(m.body()).isEqualTo(200);
        assertThat(JSON.readTree(m.body()).get("job_id").asText()).isEqualTo(job);
    }

    @Test
    void badSinceIsA400AndAnUnknownPathA404() throws Exception {
        assertThat(get("api/jobs/job/stats?since=yesterday").statusCode()).isEqualTo(400);
        assertThat(get("nothing-here").statusCode()).isEqualTo(404);
    }

    @Test
    void healthIsAlwaysUpAndReadyFollowsTheService() throws Exception {
        assertThat(get("health").statusCode()).isEqualTo(200);
        assertThat(get("ready").statusCode()).isEqualTo(503);
        ready.set(true);
        assertThat(get("ready").statusCode()).isEqualTo(200);
    }

    @Test
    void beforeTheMinerIsServedNothingIsReadyAndMemoryIsNotQueryable() throws Exception {
        try (WebServer starting = new WebServer(new WebServer.Options("127.0.0.1", 0, null), board)) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(starting.url() + "ready")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(503);
            r = http.send(HttpRequest.newBuilder(URI.create(starting.url() + "api/jobs/job/memory")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).contains("not queryable yet");
        }
    }

    @Test
    void servesTheChartingLibraryAndTheDashboardScriptFromTheJar() throws Exception {
        HttpResponse<String> uplot = get("assets/uPlot.iife.min.js");
        assertThat(uplot.statusCode()).isEqualTo(200);
        assertThat(uplot.headers().firstValue("Content-Type")).hasValue("text/javascript; charset=utf-8");
        assertThat(uplot.body()).contains("uPlot");
        assertThat(get("assets/uPlot.min.css").statusCode()).isEqualTo(200);
        assertThat(get("assets/dashboard.js").body()).contains("EventSource");
        assertThat(get("assets/../web/index.html").statusCode()).isEqualTo(404);
        assertThat(get("assets/WebServer.class").statusCode()).isEqualTo(404);
    }

    @Test
    void statsCarryTheGapHistogramAsAnArray() throws Exception {
        board.add(MiningStats.newBuilder(window("job", 10_000, 1)).setMargin(0.2).setGapLow(-0.8).setGapWidth(0.05)
                .setGapCounts(List.of(0L, 3L, 4L)).build());
        JsonNode w = JSON.readTree(get("api/jobs/job/stats").body()).get(0);
        assertThat(w.get("gap_counts")).extracting(JsonNode::asLong).containsExactly(0L, 3L, 4L);
        assertThat(w.get("gap_low").asDouble()).isEqualTo(-0.8);
        assertThat(w.get("margin").asDouble()).isEqualTo(0.2);
    }

    @Test
    void memoryAddsUpTheInstancesParts() throws Exception {
        memory.put("job", new MemorySummary(100, 10, 3, 40, 64));
        WebServer other = anotherInstance(Map.of("job", new MemorySummary(50, 5, 1, 38, 64)), null);
        WebServer empty = anotherInstance(Map.of(), null);
        peers.add(other.hostPort());
        peers.add(empty.hostPort());

        JsonNode m = JSON.readTree(get("api/jobs/job/memory").body());
        assertThat(m.get("size").asLong()).isEqualTo(150);
        assertThat(m.get("identities").asLong()).isEqualTo(15);
        assertThat(m.get("oldest_step").asLong()).isEqualTo(1);
        assertThat(m.get("newest_step").asLong()).isEqualTo(40);
        assertThat(m.get("complete").asBoolean()).isTrue();
        assertThat(m.get("instances")).extracting(i -> i.get("instance").asText())
                .containsExactly("local", other.hostPort());

        JsonNode local = JSON.readTree(get("api/jobs/job/memory?scope=local").body());
        assertThat(local.get("size").asLong()).isEqualTo(100);
    }

    @Test
    void memoryHeldOnlyByAnotherInstanceIsFoundThereAndAJobNobodyHoldsIsA404() throws Exception {
        WebServer other = anotherInstance(Map.of("remote job", new MemorySummary(7, 2, 5, 9, 8)), null);
        peers.add(other.hostPort());
        HttpResponse<String> r = get("api/jobs/remote%20job/memory");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).get("size").asLong()).isEqualTo(7);
        assertThat(get("api/jobs/nobody/memory").statusCode()).isEqualTo(404);
        assertThat(get("api/jobs/remote%20job/memory?scope=local").statusCode()).isEqualTo(404);
    }

    @Test
    void anInstanceThatDoesNotAnswerMakesTheMemoryIncompleteNotWrong() throws Exception {
        memory.put("job", new MemorySummary(100, 10, 3, 40, 64));
        WebServer gone = anotherInstance(Map.of(), null);
        peers.add(gone.hostPort());
        gone.close();
        JsonNode m = JSON.readTree(get("api/jobs/job/memory").body());
        assertThat(m.get("size").asLong()).isEqualTo(100);
        assertThat(m.get("complete").asBoolean()).isFalse();
        assertThat(m.get("instances").get(1).get("instance").asText()).isEqualTo(gone.hostPort());
    }

    @Test
    void theServiceSeriesHoldConsumerLagAndDeadLetters() throws Exception {
        deadLetters.put("truncated", 2L);
        deadLetters.put("dim-mismatch", 1L);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> JSON.readTree(get("api/service").body()).get("samples").size() >= 2);
        JsonNode service = JSON.readTree(get("api/service").body());
        JsonNode last = service.get("samples").get(service.get("samples").size() - 1);
        assertThat(last.get("consumer_lag").asLong()).isEqualTo(42);
        assertThat(last.get("dead_letters").asLong()).isEqualTo(3);
        assertThat(service.get("dead_letters_by_reason").get("truncated").asLong()).isEqualTo(2);
        // since= keeps the samples taken after it: from the second sample on.
        long firstAt = service.get("samples").get(0).get("at").asLong();
        JsonNode later = JSON.readTree(get("api/service?since=" + firstAt).body()).get("samples");
        assertThat(later).isNotEmpty();
        assertThat(later.get(0).get("at").asLong()).isEqualTo(service.get("samples").get(1).get("at").asLong());
    }

    @Test
    void theEventStreamPushesTheJobsWindowsAndTheServiceSamples() throws Exception {
        HttpResponse<Stream<String>> response = http.send(
                HttpRequest.newBuilder(URI.create(server.url() + "api/events?job=a-job")).build(),
                HttpResponse.BodyHandlers.ofLines());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/event-stream; charset=utf-8");
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        AtomicBoolean endedCleanly = new AtomicBoolean();
        Thread reader = new Thread(() -> {
            try (Stream<String> body = response.body()) {
                body.forEach(lines::add);
                endedCleanly.set(true);
            } catch (java.io.UncheckedIOException e) {
                lines.add("failed: " + e);
            }
        });
        reader.setDaemon(true);
        reader.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> server.openStreams() == 1);

        board.add(window("b-job", 10_000, 9));
        board.add(window("a-job", 10_000, 5));
        List<String> events = new ArrayList<>();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            lines.drainTo(events);
            return events.contains("event: stats") && events.contains("event: service");
        });
        String stats = events.get(events.indexOf("event: stats") + 1);
        assertThat(stats).startsWith("data: ");
        JsonNode window = JSON.readTree(stats.substring("data: ".length()));
        assertThat(window.get("job_id").asText()).as("only the job asked for").isEqualTo("a-job");
        assertThat(window.get("batches").asLong()).isEqualTo(5);

        server.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> !reader.isAlive());
        assertThat(endedCleanly).as("the stream ends with its last chunk: " + lines).isTrue();
    }

    @Test
    void openEventStreamsAreBoundedAndNeverHoldUpProbesOrTheApi() throws Exception {
        List<HttpResponse<Stream<String>>> open = new ArrayList<>();
        try {
            for (int i = 0; i < WebServer.MAX_STREAMS; i++) {
                open.add(http.send(HttpRequest.newBuilder(URI.create(server.url() + "api/events")).build(),
                        HttpResponse.BodyHandlers.ofLines()));
                assertThat(open.get(i).statusCode()).isEqualTo(200);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.openStreams() == WebServer.MAX_STREAMS);
            assertThat(get("api/events").statusCode()).as("one stream too many").isEqualTo(503);
            assertThat(get("health").statusCode()).isEqualTo(200);
            assertThat(get("api/jobs").statusCode()).isEqualTo(200);
        } finally {
            open.forEach(r -> r.body().close());
        }
    }

    @Test
    void withATokenTheEventStreamTakesItAsAQueryParameterAndNothingElseDoes() throws Exception {
        WebServer guarded = anotherInstance(Map.of("job", new MemorySummary(1, 1, 0, 0, 2)), "s3cret");
        String base = guarded.url();
        assertThat(status(base + "api/jobs/job/memory", null)).isEqualTo(401);
        assertThat(status(base + "api/jobs/job/memory", "s3cret")).isEqualTo(200);
        assertThat(status(base + "api/jobs?access_token=s3cret", null)).as("query tokens: event stream only")
                .isEqualTo(401);
        assertThat(status(base + "api/events", null)).isEqualTo(401);

        HttpResponse<Stream<String>> stream = http.send(
                HttpRequest.newBuilder(URI.create(base + "api/events?access_token=s3cret")).build(),
                HttpResponse.BodyHandlers.ofLines());
        assertThat(stream.statusCode()).isEqualTo(200);
        stream.body().close();
        assertThat(status(base + "api/events?access_token=wrong", null)).isEqualTo(401);
    }

    @Test
    void memoryFromAnotherInstanceCarriesTheToken() throws Exception {
        WebServer guarded = anotherInstance(Map.of("job", new MemorySummary(5, 1, 0, 0, 2)), "s3cret");
        WebServer asking = anotherInstance(Map.of(), "s3cret");
        asking.serve(new FakeMiner(Map.of(), List.of(guarded.hostPort())));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(asking.url() + "api/jobs/job/memory"))
                .header("Authorization", "Bearer s3cret").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).get("size").asLong()).isEqualTo(5);
    }

    private int status(String url, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
