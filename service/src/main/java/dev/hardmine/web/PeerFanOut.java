package dev.hardmine.web;

import dev.hardmine.stream.MemoryQuery;
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
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's memory across the instances of the service: this instance's part, read through
 * interactive queries, and the parts the other instances report on their
 * {@code /api/jobs/{id}/memory?scope=local}, all asked at once (the slowest answer, not the sum of
 * them, bounds the wait). A peer that does not answer makes the memory incomplete, not an error;
 * so does a partition that no answer read (a task between two instances).
 */
final class PeerFanOut {
    private static final Logger LOG = LoggerFactory.getLogger(PeerFanOut.class);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

    /**
     * One instance's part: its summary (null when it holds none), or (error set) why it did not
     * answer; the partitions it read, null when not known.
     */
    record Part(String instance, MemorySummary summary, String error, Set<Integer> partitions) {
    }

    /**
     * @param total      the sum of the parts, null when no instance holds any
     * @param parts      "local" first, then the peers that hold a part or did not answer, in the miner's order
     * @param complete   whether every instance asked answered and, when the miner knows its partitions,
     *                   the answers read every one of them
     * @param partitions the partitions the answers read, null when not known
     */
    record Memory(MemorySummary total, List<Part> parts, boolean complete, Set<Integer> partitions) {
    }

    private final BearerAuth auth;
    private final HttpClient peers = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();

    /** @param auth signs the requests to the peers, which share this instance's token */
    PeerFanOut(BearerAuth auth) {
        this.auth = auth;
    }

    /**
     * The job's memory: this instance's part, plus, unless {@code localOnly}, the other instances'.
     * While tasks move between instances a partition may be read by none of them (or, stale for a
     * moment, by two): the answer is then not complete, rather than silently short or doubled.
     */
    Memory memory(MinerView miner, String job, boolean localOnly) {
        MemoryQuery.LocalPart local = miner.localPart(job);
        MemorySummary total = local.summary();
        List<Part> parts = new ArrayList<>();
        if (total != null) {
            parts.add(new Part("local", total, null, local.partitions()));
        }
        boolean complete = true;
        Set<Integer> read = local.partitions() == null ? null : new TreeSet<>(local.partitions());
        if (!localOnly) {
            Map<String, CompletableFuture<HttpResponse<String>>> asked = new LinkedHashMap<>();
            for (String peer : miner.otherInstances()) {
                asked.put(peer, ask(peer, job));
            }
            for (Map.Entry<String, CompletableFuture<HttpResponse<String>>> a : asked.entrySet()) {
                String peer = a.getKey();
                Part part;
                try {
                    part = partOf(peer, a.getValue().join());
                } catch (CompletionException | IOException e) {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    LOG.warn("memory of job {}: instance {} did not answer: {}", job, peer, cause.toString());
                    parts.add(new Part(peer, null, String.valueOf(cause.getMessage()), null));
                    complete = false;
                    continue;
                }
                if (part.summary() != null) {
                    parts.add(part);
                    total = total == null ? part.summary() : total.plus(part.summary());
                }
                if (read != null && part.partitions() != null) {
                    for (int p : part.partitions()) {
                        if (!read.add(p)) {
                            complete = false; // read twice: a task on its way from one instance to another
                        }
                    }
                } else {
                    read = null;
                }
            }
            int partitions = miner.memoryPartitions();
            if (partitions > 0 && (read == null || read.size() < partitions)) {
                complete = false;
            }
        }
        return new Memory(total, parts, complete, read);
    }

    private CompletableFuture<HttpResponse<String>> ask(String peer, String job) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + peer + "/api/jobs/"
                        + URLEncoder.encode(job, StandardCharsets.UTF_8).replace("+", "%20") + "/memory?scope=local"))
                .timeout(REQUEST_TIMEOUT);
        auth.sign(request);
        return peers.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** An instance's answer for its part of a memory: the part, without a summary when it holds none (404). */
    private static Part partOf(String peer, HttpResponse<String> response) throws IOException {
        if (response.statusCode() != 200 && response.statusCode() != 404) {
            throw new IOException("HTTP " + response.statusCode() + ": " + response.body());
        }
        MemorySummary summary = response.statusCode() == 404 ? null : ApiJson.summary(response.body());
        return new Part(peer, summary, null, ApiJson.partitions(response.body()));
    }
}
