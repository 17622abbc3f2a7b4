package dev.hardmine.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.MiningStats;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
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
 * RUNNING and the miner waits for nothing, else 503 with the {@code reason}: Kafka Streams not
 * running, or the schema registry awaited for the writer schema of batches held back).
 * </ul>
 * With a token, {@code /api/…} and {@code /metrics} answer 401 unless the request carries
 * {@code Authorization: Bearer TOKEN} — or, for the event stream, whose browser API cannot set
 * headers, {@code access_token=TOKEN}. The page, {@code /health} and {@code /ready} stay open
 * (probes and load balancers do not hold secrets). Binds 127.0.0.1 unless given another address.
 *
 * <p>This class routes; the token check is {@link BearerAuth}'s, the event streams are
 * {@link EventStreams}', the memory across instances is {@link PeerFanOut}'s and the bodies are
 * {@link ApiJson}'s.
 */
public final class WebServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebServer.class);
    /** Open event streams at most; each holds a thread of the stream pool. */
    static final int MAX_STREAMS = EventStreams.MAX_STREAMS;
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
    private final ScheduledExecutorService sampler;
    private final StatsBoard board;
    private final NeighborBoard neighbors;
    private final BearerAuth auth;
    private final Supplier<String> metrics;
    private final EventStreams streams = new EventStreams(daemon("http-events"));
    private final ServiceHistory history = new ServiceHistory();
    private final PeerFanOut peers;
    private final Consumer<MiningStats> statsListener =
            s -> streams.publish(s.getJobId(), "stats", ApiJson.statsEvent(s));
    private volatile MinerView miner = MinerView.STARTING;

    /** A server without neighbours: {@code /api/jobs/{id}/neighbors} knows no identity. */
    public WebServer(Options options, StatsBoard board) throws IOException {
        this(options, board, new NeighborBoard());
    }

    public WebServer(Options options, StatsBoard board, NeighborBoard neighbors) throws IOException {
        this.board = board;
        this.neighbors = neighbors;
        this.auth = new BearerAuth(options.token());
        this.peers = new PeerFanOut(auth);
        this.metrics = options.metrics();
        server = HttpServer.create(new InetSocketAddress(options.bind(), options.port()), 0);
        pool = Executors.newFixedThreadPool(4, daemon("http"));
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        board.addListener(statsListener);
        sampler = Executors.newSingleThreadScheduledExecutor(daemon("http-sampler"));
        long every = options.sampleEvery().toMillis();
        sampler.scheduleAtFixedRate(this::sample, every, every, TimeUnit.MILLISECONDS);
        server.start();
    }

    private static ThreadFactory daemon(String name) {
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
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
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
            streams.publish(null, "service", ApiJson.write(ApiJson.sample(s, m.deadLetters())));
        } catch (RuntimeException e) {
            LOG.warn("could not sample the service series", e);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        boolean handedOver = false;
        try {
            handedOver = route(ex);
        } catch (IllegalArgumentException e) {
            Responses.error(ex, 400, e.getMessage());
        } catch (InvalidStateStoreException e) {
            Responses.error(ex, 503, "not queryable yet: " + e.getMessage());
        } finally {
            if (!handedOver) {
                ex.close();
            }
        }
    }

    /** Answers the request; true when an event stream took the exchange over (it closes it). */
    private boolean route(HttpExchange ex) throws IOException {
        if (!"GET".equals(ex.getRequestMethod())) {
            Responses.error(ex, 405, "method not allowed");
            return false;
        }
        URI uri = ex.getRequestURI();
        String path = uri.getRawPath(); // job ids are decoded once, by jobIn: they may hold '/', '%' or '+'
        Map<String, String> query = query(uri.getRawQuery());
        // The event stream's browser API cannot set headers: it may carry the token as access_token.
        if ((path.startsWith("/api/") || path.equals("/metrics")) && !auth.allows(
                ex.getRequestHeaders().getFirst("Authorization"),
                path.equals("/api/events") ? query.get("access_token") : null)) {
            ex.getResponseHeaders().set("WWW-Authenticate", BearerAuth.CHALLENGE);
            Responses.error(ex, 401, "unauthorized: send the header Authorization: Bearer TOKEN");
            return false;
        }
        if (path.equals("/") || path.equals("/index.html")) {
            Responses.resource(ex, "/web/index.html", "text/html; charset=utf-8");
        } else if (path.startsWith("/assets/") && ASSETS.containsKey(path.substring("/assets/".length()))) {
            String[] asset = ASSETS.get(path.substring("/assets/".length()));
            Responses.resource(ex, asset[0], asset[1]);
        } else if (path.equals("/health")) {
            Responses.json(ex, 200, ApiJson.status("UP"));
        } else if (path.equals("/ready")) {
            ready(ex);
        } else if (path.equals("/metrics") && metrics != null) {
            Responses.send(ex, 200, METRICS_CONTENT_TYPE, metrics.get().getBytes(StandardCharsets.UTF_8));
        } else if (path.equals("/api/jobs")) {
            Responses.json(ex, 200, ApiJson.jobs(latestByJob()));
        } else if (path.equals("/api/service")) {
            Responses.json(ex, 200, ApiJson.service(history.since(since(query)), miner.deadLetters()));
        } else if (path.equals("/api/events")) {
            return streams.open(ex, query.get("job"));
        } else if (path.startsWith("/api/jobs/") && path.endsWith("/stats")) {
            Responses.json(ex, 200, ApiJson.stats(board.stats(jobIn(path, "/stats"), since(query))));
        } else if (path.startsWith("/api/jobs/") && path.endsWith("/memory")) {
            memory(ex, jobIn(path, "/memory"), "local".equals(query.get("scope")));
        } else if (path.startsWith("/api/jobs/") && path.endsWith("/neighbors")) {
            neighbors(ex, jobIn(path, "/neighbors"), query.get("label"));
        } else {
            Responses.error(ex, 404, "not found");
        }
        return false;
    }

    /**
     * 200 {@code READY} while Kafka Streams runs and the miner waits for nothing; else 503
     * {@code NOT_READY} with the {@code reason}.
     */
    private void ready(HttpExchange ex) throws IOException {
        MinerView m = miner;
        String reason = m.running() ? m.waitingFor().orElse(null) : "Kafka Streams is not running";
        if (reason == null) {
            Responses.json(ex, 200, ApiJson.status("READY"));
        } else {
            Responses.json(ex, 503, ApiJson.status("NOT_READY").put("reason", reason));
        }
    }

    /** Every job of the board, in its order, with its latest window (null when it has none). */
    private Map<String, MiningStats> latestByJob() {
        Map<String, MiningStats> latest = new LinkedHashMap<>();
        for (String job : board.jobs()) {
            List<MiningStats> stats = board.stats(job, 0);
            latest.put(job, stats.isEmpty() ? null : stats.get(stats.size() - 1));
        }
        return latest;
    }

    /**
     * The job's memory: this instance's part, plus, unless {@code localOnly}, the parts the other
     * instances report. 404 when no instance holds any of it.
     */
    private void memory(HttpExchange ex, String job, boolean localOnly) throws IOException {
        PeerFanOut.Memory memory = peers.memory(miner, job, localOnly);
        if (memory.total() == null && memory.complete()) {
            // With the partitions read: the instance that asked for this part counts them.
            Responses.json(ex, 404, ApiJson.memory(job, memory).put("error", localOnly
                    ? "this instance holds no memory of job " + job : "no instance holds a memory of job " + job));
        } else {
            Responses.json(ex, 200, ApiJson.memory(job, memory));
        }
    }

    /**
     * The job's identities with their most confusable identities, in label order, with how many
     * have any and how concentrated the job's confusion is (null when none has); with {@code label},
     * that label's entry alone, 404 when the board has none for it.
     */
    private void neighbors(HttpExchange ex, String job, String label) throws IOException {
        if (label == null) {
            Responses.json(ex, 200, ApiJson.neighbors(job, neighbors.labels(job)));
            return;
        }
        IdentityNeighbors n = neighbors.label(job, label);
        if (n == null) {
            Responses.error(ex, 404, "no neighbours of label " + label + " in job " + job);
        } else {
            Responses.json(ex, 200, ApiJson.neighbors(n));
        }
    }

    /** Event streams open now. */
    int openStreams() {
        return streams.open();
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

    @Override
    public void close() {
        board.removeListener(statsListener);
        sampler.shutdownNow();
        // The event streams end their responses (a last chunk) before the connections close.
        streams.close();
        server.stop(0);
        pool.shutdownNow();
    }
}
