package dev.hardmine.testing;

import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * An HTTPS front of an HTTP server (the embedded schema registry) that asks for HTTP basic
 * credentials, as a registry deployed behind TLS and authentication does: JDK {@code HttpsServer}
 * on 127.0.0.1 with the given server certificate, requests without the user and password answered
 * 401, the others passed on (method, path, query, body, content type) and their answers passed back.
 */
public final class HttpsBasicAuthProxy implements AutoCloseable {
    private final HttpsServer server;
    private final ExecutorService executor;
    private final AtomicInteger refused = new AtomicInteger();

    private HttpsBasicAuthProxy(HttpsServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Serves {@code target} ({@code http://HOST:PORT}) over HTTPS to {@code user} with {@code password}. */
    public static HttpsBasicAuthProxy start(String target, SSLContext serverContext, String user, String password)
            throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(serverContext));
        ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "https-proxy");
            t.setDaemon(true);
            return t;
        });
        HttpsBasicAuthProxy proxy = new HttpsBasicAuthProxy(server, executor);
        server.createContext("/", exchange -> proxy.forward(http, target, exchange))
                .setAuthenticator(new BasicAuthenticator("schema-registry") {
                    @Override
                    public boolean checkCredentials(String givenUser, String givenPassword) {
                        boolean ok = user.equals(givenUser) && password.equals(givenPassword);
                        if (!ok) {
                            proxy.refused.incrementAndGet();
                        }
                        return ok;
                    }
                });
        server.setExecutor(executor);
        server.start();
        return proxy;
    }

    /** {@code https://127.0.0.1:PORT}. */
    public String url() {
        return "https://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Requests refused for wrong credentials so far (requests without any are not counted). */
    public int refused() {
        return refused.get();
    }

    private void forward(HttpClient http, String target, HttpExchange exchange) throws IOException {
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
