package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.Neighbor;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code /api/jobs/{id}/neighbors}: a job's confusable identities and how concentrated its confusion is. */
class WebServerNeighborsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final NeighborBoard neighbors = new NeighborBoard();
    private final HttpClient http = HttpClient.newHttpClient();
    private WebServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void start(String token) throws Exception {
        server = new WebServer(new WebServer.Options("127.0.0.1", 0, token), new StatsBoard(), neighbors);
    }

    private HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode ok(String path) throws Exception {
        HttpResponse<String> r = get(path, null);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        return JSON.readTree(r.body());
    }

    private static String encoded(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A label's record; {@code neighbors} as label, score pairs, highest score first as published. */
    private static IdentityNeighbors identity(String job, String label, long step, Object... neighbors) {
        List<Neighbor> list = new ArrayList<>();
        for (int i = 0; i < neighbors.length; i += 2) {
            list.add(new Neighbor((String) neighbors[i], (Double) neighbors[i + 1], i + 1L, step - i));
        }
        return new IdentityNeighbors(job, label, step, list);
    }

    @Test
    void listsTheJobsLabelsInOrderWithTheirNeighboursAndTheConcentrationOfItsConfusion() throws Exception {
        start(null);
        // c: spread evenly over 4 → 1/4; a: 3 of 3+1 on b → 3/4; b: all on a → 1.
        neighbors.add(identity("job", "c", 30, "a", 1.0, "b", 1.0, "d", 1.0, "e", 1.0));
        neighbors.add(identity("job", "a", 10, "b", 3.0, "c", 1.0));
        neighbors.add(identity("job", "b", 12, "a", 2.0));
        neighbors.add(identity("other", "z", 1, "y", 5.0));

        JsonNode out = ok("api/jobs/job/neighbors");
        assertThat(out.get("job").asText()).isEqualTo("job");
        assertThat(out.get("identities").asInt()).isEqualTo(3);
        assertThat(out.get("concentration").asDouble()).isCloseTo((0.75 + 1.0 + 0.25) / 3, within(1e-12));
        assertThat(out.get("labels")).extracting(l -> l.get("label").asText()).containsExactly("a", "b", "c");
        JsonNode a = out.get("labels").get(0);
        assertThat(a.get("step").asLong()).isEqualTo(10);
        assertThat(a.get("neighbors")).hasSize(2);
        JsonNode first = a.get("neighbors").get(0);
        assertThat(first.get("label").asText()).isEqualTo("b");
        assertThat(first.get("score").asDouble()).isEqualTo(3.0);
        assertThat(first.get("count").asLong()).isEqualTo(1);
        assertThat(first.get("last_step").asLong()).isEqualTo(10);
        assertThat(a.get("neighbors").get(1).get("label").asText()).isEqualTo("c");
        assertThat(first.size()).as("label, score, count, last_step only").isEqualTo(4);

        // Eight neighbours of equal score: confusion spread over 8 is 1/8.
        neighbors.add(identity("spread", "x", 5, "n1", 0.5, "n2", 0.5, "n3", 0.5, "n4", 0.5, "n5", 0.5, "n6", 0.5,
                "n7", 0.5, "n8", 0.5));
        assertThat(ok("api/jobs/spread/neighbors").get("concentration").asDouble()).isCloseTo(0.125, within(1e-12));
    }

    @Test
    void aLabelsNewerRecordReplacesItsOlderOne() throws Exception {
        start(null);
        neighbors.add(identity("job", "a", 10, "b", 1.0, "c", 1.0));
        neighbors.add(identity("job", "a", 11, "b", 1.9));
        JsonNode out = ok("api/jobs/job/neighbors");
        assertThat(out.get("identities").asInt()).isEqualTo(1);
        assertThat(out.get("concentration").asDouble()).isEqualTo(1.0);
        assertThat(out.get("labels").get(0).get("step").asLong()).isEqualTo(11);
    }

    @Test
    void oneLabelsEntryAndA404ForALabelOrJobWithoutNeighbours() throws Exception {
        start(null);
        neighbors.add(identity("job", "a", 10, "b", 3.0, "c", 1.0));
        neighbors.add(identity("job", "x/y ü+1", 4, "a", 0.5));

        JsonNode a = ok("api/jobs/job/neighbors?label=a");
        assertThat(a.get("label").asText()).isEqualTo("a");
        assertThat(a.get("step").asLong()).isEqualTo(10);
        assertThat(a.get("neighbors")).extracting(n -> n.get("label").asText()).containsExactly("b", "c");

        // A query parameter is form-encoded: '+' is a space, %2B a plus.
        JsonNode odd = ok("api/jobs/job/neighbors?label=" + URLEncoder.encode("x/y ü+1", StandardCharsets.UTF_8));
        assertThat(odd.get("label").asText()).isEqualTo("x/y ü+1");

        for (String path : new String[] {"api/jobs/job/neighbors?label=nobody", "api/jobs/nojob/neighbors?label=a"}) {
            HttpResponse<String> missing = get(path, null);
            assertThat(missing.statusCode()).as(path).isEqualTo(404);
            assertThat(missing.headers().firstValue("Content-Type")).hasValue("application/json");
            assertThat(JSON.readTree(missing.body()).get("error").asText()).contains("no neighbours");
        }
    }

    @Test
    void aJobWithoutNeighboursHasNoIdentitiesAndNoConcentration() throws Exception {
        start(null);
        JsonNode out = ok("api/jobs/quiet/neighbors");
        assertThat(out.get("job").asText()).isEqualTo("quiet");
        assertThat(out.get("identities").asInt()).isZero();
        assertThat(out.get("concentration").isNull()).isTrue();
        assertThat(out.get("labels")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a+b", "50%off", "x/y", "with space", "ünï"})
    void jobIdsAreDecodedOnceWhateverTheyHold(String job) throws Exception {
        start(null);
        neighbors.add(identity(job, "l", 3, "m", 1.0));
        JsonNode out = ok("api/jobs/" + encoded(job) + "/neighbors");
        assertThat(out.get("job").asText()).isEqualTo(job);
        assertThat(out.get("identities").asInt()).isEqualTo(1);
        assertThat(ok("api/jobs/" + encoded(job) + "/neighbors?label=l").get("label").asText()).isEqualTo("l");
    }

    @Test
    void withATokenTheRouteAnswers401WithoutItAnd200WithIt() throws Exception {
        start("s3cret");
        neighbors.add(identity("job", "a", 1, "b", 1.0));
        for (String path : new String[] {"api/jobs/job/neighbors", "api/jobs/job/neighbors?label=a"}) {
            for (String wrong : new String[] {null, "wrong"}) {
                HttpResponse<String> denied = get(path, wrong);
                assertThat(denied.statusCode()).as(path + " with " + wrong).isEqualTo(401);
                assertThat(denied.body()).doesNotContain("\"b\"");
            }
            assertThat(get(path, "s3cret").statusCode()).as(path).isEqualTo(200);
        }
        assertThat(get("api/jobs/job/neighbors?access_token=s3cret", null).statusCode())
                .as("query tokens: event stream only").isEqualTo(401);
    }

    @Test
    void aServerWithoutANeighbourBoardKnowsNoIdentity() throws Exception {
        server = new WebServer(new WebServer.Options("127.0.0.1", 0, null), new StatsBoard());
        assertThat(ok("api/jobs/job/neighbors").get("identities").asInt()).isZero();
    }
}
