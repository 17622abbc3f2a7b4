package dev.hardmine.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An HTTP front of a schema registry that can be told to fail the lookup of some schema ids (503,
 * as a registry half out of service answers) while it passes every other request on: a registry
 * that accepts the service's registrations at start but cannot give a writer schema a moment later.
 */
public final class RegistryFront implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor;
    private final Set<Integer> failing = ConcurrentHashMap.newKeySet();

    private RegistryFront(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Serves {@code target} ({@code http://HOST:PORT}) on a port of its own on 127.0.0.1. */
    public static RegistryFront start(String target) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "registry-front");
            t.setDaemon(true);
            return t;
        });
        RegistryFront front = new RegistryFront(server, executor);
        server.createContext("/", exchange -> {
            if (front.fails(exchange.getRequestURI().getPath())) {
                try (exchange) {
                    exchange.sendResponseHeaders(503, -1);
                }
            } else {
                forward(http, target, exchange);
            }
        });
        server.setExecutor(executor);
        server.start();
        return front;
    }

    /** {@code http://127.0.0.1:PORT}. */
    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** From now on, lookups of schema {@code id} ({@code /schemas/ids/ID…}) are answered 503. */
    public void fail(int id) {
        failing.add(id);
    }

    /** Lookups of every schema id are passed on again. */
    public void heal() {
        failing.clear();
    }

    private boolean fails(String path) {
        String prefix = "/schemas/ids/";
        if (!path.startsWith(prefix)) {
            return false;
        }
        String rest = path.substring(prefix.length());
        int end = rest.indexOf('/');
        try {
            return failing.contains(Integer.parseInt(end < 0 ? rest : rest.substring(0, end)));
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Passes {@code exchange} on to {@code target} (method, path, query, body, content type) and its answer back. */
    static void forward(HttpClient http, String target, HttpExchange exchange) throws IOException {
        try (exchange; InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readAllBytes();
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(target + exchange.getRequestURI()))
                    .timeout(Duration.ofSeconds(30))
                    .method(exchange.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(body));
            String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
            if (contentType != null) {
                request.header("Content-Type", contentType);
            }
            HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            response.headers().firstValue("Content-Type").ifPresent(t -> exchange.getResponseHeaders().set("Content-Type", t));
            byte[] answer = response.body();
            exchange.sendResponseHeaders(response.statusCode(), answer.length == 0 ? -1 : answer.length);
            if (answer.length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(answer);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while passing a request on", e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
