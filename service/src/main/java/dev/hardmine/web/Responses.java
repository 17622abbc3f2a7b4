package dev.hardmine.web;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Complete answers to an exchange; every one is {@code Cache-Control: no-store}. */
final class Responses {
    private Responses() {
    }

    /** {@code body} as {@code application/json}: a Jackson tree, or a value Jackson writes. */
    static void json(HttpExchange ex, int status, Object body) throws IOException {
        send(ex, status, "application/json", ApiJson.write(body).getBytes(StandardCharsets.UTF_8));
    }

    static void error(HttpExchange ex, int status, String message) throws IOException {
        json(ex, status, ApiJson.error(message));
    }

    /** A file of the jar. */
    static void resource(HttpExchange ex, String resource, String type) throws IOException {
        try (InputStream in = Responses.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource missing from the jar: " + resource);
            }
            send(ex, 200, type, in.readAllBytes());
        }
    }

    static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }
}
