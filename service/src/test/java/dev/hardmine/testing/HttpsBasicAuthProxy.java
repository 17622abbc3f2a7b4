package dev.hardmine.testing;

import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
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
        server.createContext("/", exchange -> RegistryFront.forward(http, target, exchange))
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

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
