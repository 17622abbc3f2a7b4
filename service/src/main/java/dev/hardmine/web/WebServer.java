package dev.hardmine.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.avro.Neighbor;
import dev.hardmine.stream.MemorySummary;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.avro.Schema;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * hardmine's HTTP side, the same for {@code run} and {@code demo}:
 * <ul>
 * <li>{@code /} the live dashboard, with its scripts and the charting library under {@code /assets/}
 * (all served from the jar);
 * <li>{@code /api/jobs}, {@code /api/jobs/{id}/stats?since=EPOCH_MS} (MiningStats with the
 * schema's field names, timestamps in epoch ms), {@code /api/jobs/{id}/memory} (the job's memory
 * read through interactive queries from every instance; {@code ?scope=local} for this instance's
 * part), {@code /api/jobs/{id}/neighbors[?label=L]} (each identity's most confusable identities
 * and how concentrated the job's confusion is), {@code /api/service?since=EPOCH_MS} (consumer lag
 * and dead letters), and
 * {@code /api/events[?job=ID]}, a server-sent-event stream of {@code stats} and {@code service}
 * events;
 * <li>{@code /metrics} in the Prometheus text format;
 * <li>{@code /health} (the process is up) and {@code /ready} (200 only while Kafka Streams is
 * RUNNING, else 503).
 * </ul>
 * With a token, {@code /api/…} and {@code /metrics} answer 401 unless the request carries
 * {@code Authorization: Bearer TOKEN} — or, for the event stream, whose browser API cannot set
 * headers, {@code access_token=TOKEN}. The page, {@code /health} and {@code /ready} stay open
 * (probes and load balancers do not hold secrets). Binds 127.0.0.1 unless given another address.
 */
public final class WebServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Open event streams at most; each holds a thread of the stream pool. */
    static final int MAX_STREAMS = 16;
    private static final long KEEP_ALIVE_SECONDS = 15;
    private static final String UPLOT = "/META-INF/resources/webjars/uplot/1.6.30/dist/";
    private static final Map<String, String[]> ASSETS = Map.of(
            "uPlot.iife.min.js", new String[] {UPLOT + "uPlot.iife.min.js", "text/javascript; charset=utf-8"},
            "uPlot.min.css", new String[] {UPLOT + "uPlot.min.css", "text/css; charset=utf-8"},
            "dashboard.js", new String[] {"/web/dashboard.js", "text/javascript; charset=utf-8"},
            "dashboard.css", new String[] {"/web/dashboard.css", "text/css; charset=utf-8"});

    /** The content type of the Prometheus text exposition format. */
    public static final String METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /**
     * @param bind        address to listen on
     * @param port        port, 0 for any free one
     * @param token       bearer token protecting {@code /api/} and {@code /metrics}; null or empty = open
     * @param metrics     the Prometheus text to serve at {@code /metrics}, or null for none (404)
     * @param sampleEvery how often the service series are sampled and pushed to event streams
     */
    public record Options(String bind, int port, String token, Supplier<String> metrics, Duration sampleEvery) {
        public Options(String bind, int port, String token, Supplier<String> metrics) {
            this(bind, port, token, metrics, Duration.ofSeconds(2));
        }

        public Options(String bind, int port, String token) {
            this(bind, port, token, null);
        }
    }

    private final HttpServer server;
    private final ExecutorService pool;
    /** Threads of the event streams, apart: streams never hold up a probe, a scrape or the API. */
    private final ExecutorService streamPool;
    private final ScheduledExecutorService sampler;
    private final StatsBoard board;
    private final NeighborBoard neighbors;
    /** The token, and its SHA-256 that requests are checked against; null when the API is open. */
    private final String token;
    private final byte[] tokenDigest;
    private final Supplier<String> metrics;
    private final EventHub events = new EventHub();
    private final Semaphore streamSlots = new Semaphore(MAX_STREAMS);
    private final ServiceHistory history = new ServiceHistory();
    private final HttpClient peers = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final java.util.function.Consumer<MiningStats> statsListener =
            s -> events.publish(s.getJobId(), "stats", write(toJson(s)));
    private volatile MinerView miner = MinerView.STARTING;
    private volatile boolean closed;

    /** A server without neighbours: {@code /api/jobs/{id}/neighbors} knows no identity. */
    public WebServer(Options options, StatsBoard board) throws IOException {
        this(options, board, new NeighborBoard());
    }

    public WebServer(Options options, StatsBoard board, NeighborBoard neighbors) throws IOException {
        this.board = board;
        this.neighbors = neighbors;
        this.token = options.token() == null || options.token().isEmpty() ? null : options.token();
        this.tokenDigest = token == null ? null : sha256(token);
        this.metrics = options.metrics();
        server = HttpServer.create(new InetSocketAddress(options.bind(), options.port()), 0);
        pool = Executors.newFixedThreadPool(4, daemon("http"));
        streamPool = Executors.newFixedThreadPool(MAX_STREAMS, daemon("http-events"));
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        board.addListener(statsListener);
        sampler = Executors.newSingleThreadScheduledExecutor(daemon("http-sampler"));
        long every = options.sampleEvery().toMillis();
        sampler.scheduleAtFixedRate(this::sample, every, every, TimeUnit.MILLISECONDS);
        server.start();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** From now on, answers from this miner (until then: not ready, memory not queryable). */
    public void serve(MinerView view) {
        this.miner = view;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /**
     * {@code host:port} as other instances reach this one (Kafka Streams' {@code application.server}):
     * the bound address, or the host's name when bound to every address.
     */
    public String hostPort() {
        InetSocketAddress address = server.getAddress();
        String host = address.getHostString();
        if (address.getAddress().isAnyLocalAddress()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException e) {
                host = "localhost";
            }
        }
        return host + ":" + port();
    }

    public String url() {
        return "http://" + hostPort() + "/";
    }

    private void sample() {
        try {
            MinerView m = miner;
            long lag = m.consumerLag().orElse(-1);
            long dead = m.deadLetters().values().stream().mapToLong(Long::longValue).sum();
            ServiceHistory.Sample s = new ServiceHistory.Sample(System.currentTimeMillis(), lag, dead);
            history.add(s);
            events.publish(null, "service", write(toJson(s, m.deadLetters())));
        } catch (RuntimeException e) {
            LOG.warn("could not sample the service series", e);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        boolean handedOver = false;
        try {
            handedOver = route(ex);
        } catch (IllegalArgumentException e) {
            sendJson(ex, 400, JSON.createObjectNode().put("error", e.getMessage()));
        } catch (InvalidStateStoreException e) {
            sendJson(ex, 503, JSON.createObjectNode().put("error", "not queryable yet: " + e.getMessage()));
        } finally {
            if (!handedOver) {
                ex.close();
            }
        }
    }

    /** Answers the request; true when an event stream took the exchange over (it closes it). */
    private boolean route(HttpExchange ex) throws IOException {
        if (!"GET".equals(ex.getRequestMethod())) {
            sendJson(ex, 405, JSON.createObjectNode().put("error", "method not allowed"));
            return false;
        }
        URI uri = ex.getRequestURI();
        String path = uri.getRawPath(); // job ids are decoded once, by jobIn: they may hold '/', '%' or '+'
        Map<String, String> query = query(uri.getRawQuery());
        if ((path.startsWith("/api/") || path.equals("/metrics")) && !authorized(ex, path, query)) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"hardmine\"");
            sendJson(ex, 401, JSON.createObjectNode()
                    .put("error", "unauthorized: send the header Authorization: Bearer TOKEN"));
            return false;
        }
        if (path.equals("/") || path.equals("/index.html")) {
            sendResource(ex, "/web/index.html", "text/html; charset=utf-8");
        } else if (path.startsWith("/assets/") && ASSETS.containsKey(path.substring("/assets/".length()))) {
            String[] asset = ASSETS.get(path.substring("/assets/".length()));
            sendResource(ex, asset[0], asset[1]);
        } else if (path.equals("/health")) {
            sendJson(ex, 200, JSON.createObjectNode().put("status", "UP"));
        } else if (path.equals("/ready")) {
            boolean ok = miner.running();
            sendJson(ex, ok ? 200 : 503, JSON.createObjectNode().put("status", ok ? "READY" : "NOT_READY"));
        } else if (path.equals("/metrics") && metrics != null) {
            send(ex, 200, METRICS_CONTENT_TYPE, metrics.get().getBytes(StandardCharsets.UTF_8));
        } else if (path.equals("/api/jobs")) {
            sendJson(ex, 200, jobs());
        } else if (path.equals("/api/service")) {
            sendJson(ex, 200, service(since(query)));
        } else if (path.equals("/api/events")) {
            return stream(ex, query.get("job"));
        } else if (path.startsWith("/api/jobs/") && path.endsWith("/stats")) {
            ArrayNode out = JSON.createArrayNode();
            board.stats(jobIn(path, "/stats"), since(query)).forEach(s -> out.add(toJson(s)));
            sendJson(ex, 200, out);
        } else if (path.startsWith("/api/jobs/") && path.endsWith("/memory")) {
            memory(ex, jobIn(path, "/memory"), "local".equals(query.get("scope")));
        } else if (path.startsWith("/api/jobs/") && path.endsWith("/neighbors")) {
            neighbors(ex, jobIn(path, "/neighbors"), query.get("label"));
        } else {
            sendJson(ex, 404, JSON.createObjectNode().put("error", "not found"));
        }
        return false;
    }

    /**
     * Whether the request may see the protected paths: always when there is no token, else when it
     * carries {@code Authorization: Bearer TOKEN} (or, on the event stream only, {@code access_token}).
     * Digests of equal length are compared in constant time, so the time taken tells nothing about
     * the token or its length.
     */
    private boolean authorized(HttpExchange ex, String path, Map<String, String> query) {
        if (tokenDigest == null) {
            return true;
        }
        String header = ex.getRequestHeaders().getFirst("Authorization");
        String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim()
                : path.equals("/api/events") ? query.get("access_token") : null;
        return given != null && MessageDigest.isEqual(tokenDigest, sha256(given));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private ArrayNode jobs() {
        ArrayNode jobs = JSON.createArrayNode();
        for (String job : board.jobs()) {
            ObjectNode j = jobs.addObject();
            j.put("job_id", job);
            List<MiningStats> stats = board.stats(job, 0);
            if (!stats.isEmpty()) {
                j.set("latest", toJson(stats.get(stats.size() - 1)));
            }
        }
        return jobs;
    }

    private ObjectNode service(long since) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode samples = out.putArray("samples");
        history.since(since).forEach(s -> samples.add(toJson(s, null)));
        ObjectNode reasons = out.putObject("dead_letters_by_reason");
        miner.deadLetters().forEach(reasons::put);
        return out;
    }

    private static ObjectNode toJson(ServiceHistory.Sample s, Map<String, Long> byReason) {
        ObjectNode o = JSON.createObjectNode().put("at", s.at());
        if (s.consumerLag() >= 0) {
            o.put("consumer_lag", s.consumerLag());
        } else {
            o.putNull("consumer_lag");
        }
        o.put("dead_letters", s.deadLetters());
        if (byReason != null) {
            ObjectNode reasons = o.putObject("dead_letters_by_reason");
            byReason.forEach(reasons::put);
        }
        return o;
    }

    /**
     * The job's memory: this instance's part, plus, unless {@code localOnly}, the parts the other
     * instances report. 404 when no instance holds any of it.
     */
    private void memory(HttpExchange ex, String job, boolean localOnly) throws IOException {
        MinerView m = miner;
        MemorySummary total = m.localMemory(job);
        ObjectNode out = JSON.createObjectNode().put("job_id", job);
        ArrayNode instances = JSON.createArrayNode();
        if (total != null) {
            instances.add(part("local", total));
        }
        boolean complete = true;
        if (!localOnly) {
            Map<String, CompletableFuture<HttpResponse<String>>> asked = new LinkedHashMap<>();
            for (String peer : m.otherInstances()) {
                asked.put(peer, askPeer(peer, job)); // all at once: the slowest, not the sum, bounds the answer
            }
            for (Map.Entry<String, CompletableFuture<HttpResponse<String>>> a : asked.entrySet()) {
                String peer = a.getKey();
                MemorySummary part;
                try {
                    part = partOf(a.getValue().join());
                } catch (CompletionException | IOException e) {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    LOG.warn("memory of job {}: instance {} did not answer: {}", job, peer, cause.toString());
                    instances.addObject().put("instance", peer).put("error", String.valueOf(cause.getMessage()));
                    complete = false;
                    continue;
                }
                if (part != null) {
                    instances.add(part(peer, part));
                    total = total == null ? part : total.plus(part);
                }
            }
        }
        if (total == null && complete) {
            sendJson(ex, 404, JSON.createObjectNode().put("error", "no instance holds a memory of job " + job));
            return;
        }
        if (total != null) {
            put(out, total);
        }
        out.put("complete", complete);
        out.set("instances", instances);
        sendJson(ex, 200, out);
    }

    private CompletableFuture<HttpResponse<String>> askPeer(String peer, String job) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + peer + "/api/jobs/"
                        + URLEncoder.encode(job, StandardCharsets.UTF_8).replace("+", "%20") + "/memory?scope=local"))
                .timeout(Duration.ofSeconds(5));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
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
        JsonNode j = JSON.readTree(response.body());
        return new MemorySummary(j.path("size").asLong(), j.path("identities").asLong(),
                j.path("oldest_step").asLong(-1), j.path("newest_step").asLong(-1), j.path("dim").asInt());
    }

    private static ObjectNode part(String instance, MemorySummary s) {
        ObjectNode o = JSON.createObjectNode().put("instance", instance);
        put(o, s);
        return o;
    }

    private static void put(ObjectNode o, MemorySummary s) {
        o.put("size", s.size()).put("identities", s.identities()).put("oldest_step", s.oldestStep())
                .put("newest_step", s.newestStep()).put("dim", s.dim());
    }

    /**
     * The job's identities with their most confusable identities, in label order, with how many
     * have any and how concentrated the confusion is (null when none has); with {@code label},
     * that label's entry alone, 404 when the board has none for it.
     */
    private void neighbors(HttpExchange ex, String job, String label) throws IOException {
        if (label != null) {
            IdentityNeighbors n = neighbors.label(job, label);
            if (n == null) {
                sendJson(ex, 404, JSON.createObjectNode()
                        .put("error", "no neighbours of label " + label + " in job " + job));
            } else {
                sendJson(ex, 200, toJson(n));
            }
            return;
        }
        List<IdentityNeighbors> labels = neighbors.labels(job);
        ObjectNode out = JSON.createObjectNode().put("job", job)
                .put("identities", labels.stream().filter(NeighborBoard::counts).count());
        OptionalDouble concentration = NeighborBoard.concentration(labels);
        if (concentration.isPresent()) {
            out.put("concentration", concentration.getAsDouble());
        } else {
            out.putNull("concentration");
        }
        ArrayNode entries = out.putArray("labels");
        labels.forEach(n -> entries.add(toJson(n)));
        sendJson(ex, 200, out);
    }

    /** A label's entry: {@code label}, {@code step}, {@code neighbors} (highest score first, as published). */
    static ObjectNode toJson(IdentityNeighbors n) {
        ObjectNode o = JSON.createObjectNode().put("label", n.getLabel()).put("step", n.getStep());
        ArrayNode list = o.putArray("neighbors");
        for (Neighbor x : n.getNeighbors()) {
            list.addObject().put("label", x.getLabel()).put("score", x.getScore()).put("count", x.getCount())
                    .put("last_step", x.getLastStep());
        }
        return o;
    }

    /**
     * A server-sent-event stream: {@code stats} (a MiningStats window, as in the stats API) each
     * time a window of the job (or of any job) changes, {@code service} at each sample, a comment
     * every {@value #KEEP_ALIVE_SECONDS} s otherwise. Ends when the client goes, the server closes,
     * or the client falls {@value EventHub#QUEUE} events behind.
     */
    private boolean stream(HttpExchange ex, String job) throws IOException {
        if (!streamSlots.tryAcquire()) {
            sendJson(ex, 503, JSON.createObjectNode().put("error", "too many event streams open"));
            return false;
        }
        EventHub.Subscription subscription = events.subscribe(job);
        try {
            streamPool.execute(() -> follow(ex, subscription));
            return true;
        } catch (RejectedExecutionException e) { // closing
            subscription.close();
            streamSlots.release();
            sendJson(ex, 503, JSON.createObjectNode().put("error", "closing"));
            return false;
        }
    }

    /** Writes a stream's events, on a thread of the stream pool, until it ends; then closes the exchange. */
    private void follow(HttpExchange ex, EventHub.Subscription subscription) {
        try (ex; subscription) {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            out.write("retry: 2000\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            while (!closed) {
                String event = subscription.next(KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
                out.write((event == null ? ": keep-alive\n\n" : event).getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (EventHub.Ended | IOException e) {
            // the client went, fell behind, or the server is closing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            streamSlots.release();
        }
    }

    /** Event streams open now. */
    int openStreams() {
        return events.open();
    }

    /** The job id of {@code /api/jobs/{id}SUFFIX}, percent-decoded; a '+' in a path is a plus. */
    private static String jobIn(String rawPath, String suffix) {
        String raw = rawPath.substring("/api/jobs/".length(), rawPath.length() - suffix.length());
        return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new HashMap<>();
        if (raw == null) {
            return out;
        }
        for (String kv : raw.split("&")) {
            int eq = kv.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
            out.put(k, eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return out;
    }

    private static long since(Map<String, String> query) {
        String v = query.get("since");
        if (v == null) {
            return 0;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("since must be epoch milliseconds, got " + v);
        }
    }

    /** A MiningStats as JSON with the schema's field names; timestamps as epoch milliseconds. */
    static ObjectNode toJson(MiningStats s) {
        ObjectNode o = JSON.createObjectNode();
        for (Schema.Field f : s.getSchema().getFields()) {
            Object v = s.get(f.pos());
            if (v instanceof java.time.Instant t) {
                o.put(f.name(), t.toEpochMilli());
            } else if (v instanceof Long l) {
                o.put(f.name(), l);
            } else if (v instanceof Double d) {
                o.put(f.name(), d);
            } else if (v instanceof List<?> list) {
                ArrayNode a = o.putArray(f.name());
                list.forEach(x -> a.add((Long) x));
            } else {
                o.put(f.name(), String.valueOf(v));
            }
        }
        return o;
    }

    private static String write(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void sendResource(HttpExchange ex, String resource, String type) throws IOException {
        try (InputStream in = WebServer.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource missing from the jar: " + resource);
            }
            send(ex, 200, type, in.readAllBytes());
        }
    }

    private static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, "application/json", write(body).getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        closed = true;
        board.removeListener(statsListener);
        sampler.shutdownNow();
        events.close();
        // Let the event streams end their responses (a last chunk) before the connections close.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        try {
            while (streamSlots.availablePermits() < MAX_STREAMS && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.stop(0);
        pool.shutdownNow();
        streamPool.shutdownNow();
    }
}
