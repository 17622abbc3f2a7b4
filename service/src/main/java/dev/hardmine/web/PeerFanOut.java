package dev.hardmine.web;

import dev.hardmine.stream.MemorySummary;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's memory across the instances of the service: this instance's part, read through
 * interactive queries, and the parts the other instances report on their
 * {@code /api/jobs/{id}/memory?scope=local}, all asked at once (the slowest answer, not the sum of
 * them, bounds the wait). A peer that does not answer makes the memory incomplete, not an error.
 */
final class PeerFanOut {
    private static final Logger LOG = LoggerFactory.getLogger(PeerFanOut.class);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

    /** One instance's part: its summary, or (summary null) why it did not answer. */
    record Part(String instance, MemorySummary summary, String error) {
    }

    /**
     * @param total    the sum of the parts, null when no instance holds any
     * @param parts    "local" first, then the peers that hold a part or did not answer, in the miner's order
     * @param complete whether every instance asked answered
     */
    record Memory(MemorySummary total, List<Part> parts, boolean complete) {
    }

    private final BearerAuth auth;
    private final HttpClient peers = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();

    /** @param auth signs the requests to the peers, which share this instance's token */
    PeerFanOut(BearerAuth auth) {
        this.auth = auth;
    }

    /** The job's memory: this instance's part, plus, unless {@code localOnly}, the other instances'. */
    Memory memory(MinerView miner, String job, boolean localOnly) {
        MemorySummary total = miner.localMemory(job);
        List<Part> parts = new ArrayList<>();
        if (total != null) {
            parts.add(new Part("local", total, null));
        }
        boolean complete = true;
        if (!localOnly) {
            Map<String, CompletableFuture<HttpResponse<String>>> asked = new LinkedHashMap<>();
            for (String peer : miner.otherInstances()) {
                asked.put(peer, ask(peer, job));
            }
            for (Map.Entry<String, CompletableFuture<HttpResponse<String>>> a : asked.entrySet()) {
                String peer = a.getKey();
                MemorySummary part;
                try {
                    part = partOf(a.getValue().join());
                } catch (CompletionException | IOException e) {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    LOG.warn("memory of job {}: instance {} did not answer: {}", job, peer, cause.toString());
                    parts.add(new Part(peer, null, String.valueOf(cause.getMessage())));
                    complete = false;
                    continue;
                }
                if (part != null) {
                    parts.add(new Part(peer, part, null));
                    total = total == null ? part : total.plus(part);
                }
            }
        }
        return new Memory(total, parts, complete);
    }

    private CompletableFuture<HttpResponse<String>> ask(String peer, String job) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + peer + "/api/jobs/"
                        + URLEncoder.encode(job, StandardCharsets.UTF_8).replace("+", "%20") + "/memory?scope=local"))
                .timeout(REQUEST_TIMEOUT);
        auth.sign(request);
        return peers.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** An instance's answer for its part of a memory: null when it holds none (404). */
    private static MemorySummary partOf(HttpResponse<String> response) throws IOException {
        if (response.statusCode() == 404) {
            return null;
        }
        if (response.statusCode() != 200) {
            throw new IOException("HTTP " + response.statusCode() + ": " + response.body());
        }
        return ApiJson.summary(response.body());
    }
}
