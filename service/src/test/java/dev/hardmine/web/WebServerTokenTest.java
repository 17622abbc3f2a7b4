package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** /metrics, and the bearer token that guards /api/… and /metrics but not the page or the probes. */
class WebServerTokenTest {
    private static final String METRICS = "# TYPE hardmine_batches_total counter\nhardmine_batches_total{job=\"j\"} 3.0\n";
    private final HttpClient http = HttpClient.newHttpClient();
    private WebServer server;

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.url() + path));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void metricsAreServedInThePrometheusTextFormat() throws Exception {
        server = new WebServer(new WebServer.Options("127.0.0.1", 0, null, () -> METRICS), new StatsBoard());
        HttpResponse<String> r = get("metrics", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(r.body()).isEqualTo(METRICS);
    }

    @Test
    void withATokenApiAndMetricsAnswer401WithoutItOrWithAnotherAnd200WithIt() throws Exception {
        server = new WebServer(new WebServer.Options("127.0.0.1", 0, "s3cret-token", () -> METRICS), new StatsBoard());
        for (String path : new String[] {"api/jobs", "api/jobs/j/stats", "metrics"}) {
            for (String wrong : new String[] {null, "Bearer wrong", "Bearer s3cret-toke", "Bearer s3cret-token2",
                "Basic czNjcmV0LXRva2Vu", "s3cret-token"}) {
                HttpResponse<String> denied = get(path, wrong);
                assertThat(denied.statusCode()).as("%s with %s", path, wrong).isEqualTo(401);
                assertThat(denied.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
                        v -> assertThat(v).startsWith("Bearer"));
                assertThat(new ObjectMapper().readTree(denied.body()).get("error").asText()).contains("unauthorized");
                assertThat(denied.body()).doesNotContain("hardmine_batches_total");
            }
            assertThat(get(path, "Bearer s3cret-token").statusCode()).as(path).isEqualTo(200);
            assertThat(get(path, "bearer s3cret-token").statusCode()).as("scheme is case-insensitive").isEqualTo(200);
        }
        assertThat(get("metrics", "Bearer s3cret-token").body()).isEqualTo(METRICS);
    }

    @Test
    void withATokenThePageHealthAndReadyStayOpen() throws Exception {
        server = new WebServer(new WebServer.Options("127.0.0.1", 0, "s3cret-token", () -> METRICS), new StatsBoard());
        assertThat(get("health", null).statusCode()).isEqualTo(200);
        assertThat(get("ready", null).statusCode()).as("not running yet, but not a secret").isEqualTo(503);
        assertThat(get("", null).statusCode()).isEqualTo(200);
    }

    @Test
    void withoutATokenEverythingIsOpenAndAnEmptyTokenMeansNone() throws Exception {
        server = new WebServer(new WebServer.Options("127.0.0.1", 0, "", () -> METRICS), new StatsBoard());
        assertThat(get("metrics", null).statusCode()).isEqualTo(200);
        assertThat(get("api/jobs", "Bearer anything").statusCode()).isEqualTo(200);
    }

    @Test
    void withoutMetricsThePathIsNotFound() throws Exception {
        server = new WebServer(new WebServer.Options("127.0.0.1", 0, null), new StatsBoard());
        assertThat(get("metrics", null).statusCode()).isEqualTo(404);
    }
}
