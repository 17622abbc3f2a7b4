package dev.hardmine.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.hardmine.avro.MiningStats;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.avro.Schema;

/**
 * hardmine's HTTP side: {@code /} the live page, {@code /api/jobs} and
 * {@code /api/jobs/{id}/stats?since=EPOCH_MS} as JSON (MiningStats with the schema's field names,
 * timestamps in epoch ms), {@code /metrics} in the Prometheus text format, {@code /health} (the
 * process is up) and {@code /ready} (200 only while Kafka Streams is running, else 503). Binds
 * 127.0.0.1 unless given another address.
 *
 * <p>With a token, {@code /api/…} and {@code /metrics} answer only requests that carry it
 * ({@code Authorization: Bearer TOKEN}); others get 401. The page, {@code /health} and
 * {@code /ready} stay open (probes and load balancers do not hold secrets).
 */
public final class WebServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The content type of the Prometheus text exposition format. */
    public static final String METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;
    private final StatsBoard board;
    private final BooleanSupplier ready;
    private final Supplier<String> metrics;
    /** SHA-256 of the token, or null when the API is open. */
    private final byte[] tokenDigest;

    /** A server without {@code /metrics} and without a token. */
    public WebServer(String bind, int port, StatsBoard board, BooleanSupplier ready) throws IOException {
        this(bind, port, board, ready, null, null);
    }

    /**
     * @param metrics the Prometheus text to serve at {@code /metrics}, or null for none (404)
     * @param token   the bearer token that {@code /api/…} and {@code /metrics} require; null or
     *                empty = open
     */
    public WebServer(String bind, int port, StatsBoard board, BooleanSupplier ready, Supplier<String> metrics,
                     String token) throws IOException {
        this.board = board;
        this.ready = ready;
        this.metrics = metrics;
        this.tokenDigest = token == null || token.isEmpty() ? null : sha256(token);
        server = HttpServer.create(new InetSocketAddress(bind, port), 0);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String url() {
        return "http://" + server.getAddress().getHostString() + ":" + port() + "/";
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            try {
                route(ex);
            } catch (IllegalArgumentException e) {
                send(ex, 400, "application/json",
                        JSON.writeValueAsString(JSON.createObjectNode().put("error", e.getMessage())));
            }
        }
    }

    private void route(HttpExchange ex) throws IOException {
        if (!"GET".equals(ex.getRequestMethod())) {
            send(ex, 405, "application/json", "{\"error\":\"method not allowed\"}");
            return;
        }
        URI uri = ex.getRequestURI();
        String path = uri.getPath();
        if ((path.startsWith("/api/") || path.equals("/metrics")) && !authorized(ex)) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"hardmine\"");
            send(ex, 401, "application/json", "{\"error\":\"unauthorized: send the header Authorization: Bearer TOKEN\"}");
            return;
        }
        if (path.equals("/") || path.equals("/index.html")) {
            try (InputStream page = WebServer.class.getResourceAsStream("/web/index.html")) {
                send(ex, 200, "text/html; charset=utf-8", new String(page.readAllBytes(), StandardCharsets.UTF_8));
            }
        } else if (path.equals("/health")) {
            send(ex, 200, "application/json", "{\"status\":\"UP\"}");
        } else if (path.equals("/ready")) {
            boolean ok = ready.getAsBoolean();
            send(ex, ok ? 200 : 503, "application/json", ok ? "{\"status\":\"READY\"}" : "{\"status\":\"NOT_READY\"}");
        } else if (path.equals("/metrics") && metrics != null) {
            send(ex, 200, METRICS_CONTENT_TYPE, metrics.get());
        } else if (path.equals("/api/jobs")) {
            ArrayNode jobs = JSON.createArrayNode();
            for (String job : board.jobs()) {
                ObjectNode j = jobs.addObject();
                j.put("job_id", job);
                List<MiningStats> stats = board.stats(job, 0);
                if (!stats.isEmpty()) {
                    j.set("latest", toJson(stats.get(stats.size() - 1)));
                }
            }
            send(ex, 200, "application/json", JSON.writeValueAsString(jobs));
        } else if (path.startsWith("/api/jobs/") && path.endsWith("/stats")) {
            String job = URLDecoder.decode(path.substring("/api/jobs/".length(), path.length() - "/stats".length()),
                    StandardCharsets.UTF_8);
            long since = parseSince(uri.getQuery());
            ArrayNode out = JSON.createArrayNode();
            board.stats(job, since).forEach(s -> out.add(toJson(s)));
            send(ex, 200, "application/json", JSON.writeValueAsString(out));
        } else {
            send(ex, 404, "application/json", "{\"error\":\"not found\"}");
        }
    }

    /**
     * Whether the request may see the protected paths: always when there is no token, else when
     * it carries {@code Authorization: Bearer TOKEN}. Digests of equal length are compared in
     * constant time, so the time taken tells nothing about the token or its length.
     */
    boolean authorized(HttpExchange ex) {
        if (tokenDigest == null) {
            return true;
        }
        String header = ex.getRequestHeaders().getFirst("Authorization");
        String prefix = "Bearer ";
        if (header == null || !header.regionMatches(true, 0, prefix, 0, prefix.length())) {
            return false;
        }
        return MessageDigest.isEqual(tokenDigest, sha256(header.substring(prefix.length()).trim()));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static long parseSince(String query) {
        if (query == null) {
            return 0;
        }
        for (String kv : query.split("&")) {
            if (kv.startsWith("since=")) {
                try {
                    return Long.parseLong(kv.substring(6));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("since must be epoch milliseconds, got " + kv.substring(6));
                }
            }
        }
        return 0;
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
            } else {
                o.put(f.name(), String.valueOf(v));
            }
        }
        return o;
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
