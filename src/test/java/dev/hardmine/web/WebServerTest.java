package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.avro.MiningStats;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WebServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final StatsBoard board = new StatsBoard();
    private final AtomicBoolean ready = new AtomicBoolean(false);
    private final HttpClient http = HttpClient.newHttpClient();
    private WebServer server;

    @BeforeEach
    void start() throws Exception {
        server = new WebServer("127.0.0.1", 0, board, ready::get);
    }

    @AfterEach
    void stop() {
        server.close();
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
        assertThat(page.body()).contains("<title>hardmine</title>", "api/jobs");
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
}
