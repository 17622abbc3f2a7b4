package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Event streams over a real JDK HTTP server and real sockets. */
class EventStreamsTest {
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(1);

    private EventStreams streams;
    private HttpServer server;

    @BeforeEach
    void start() throws Exception {
        streams = new EventStreams(Executors.defaultThreadFactory(), WRITE_TIMEOUT);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/events", ex -> streams.open(ex, null));
        server.setExecutor(Executors.newFixedThreadPool(2));
        server.start();
    }

    @AfterEach
    void stop() {
        streams.close();
        server.stop(0);
    }

    private Socket connect() throws Exception {
        Socket socket = new Socket("127.0.0.1", server.getAddress().getPort());
        socket.setReceiveBufferSize(4096);
        OutputStream out = socket.getOutputStream();
        out.write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return socket;
    }

    @Test
    void aClientThatStopsReadingLosesItsStreamAfterTheWriteTimeout() throws Exception {
        String event = "event: stats\ndata: " + "x".repeat(64 * 1024) + "\n\n";
        try (Socket stalled = connect()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> streams.open() == 1);
            // The client reads nothing: once the socket buffers are full the stream's write blocks.
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (streams.open() == 1 && System.nanoTime() < deadline) {
                streams.publish(null, "stats", event);
                Thread.sleep(5);
            }
            assertThat(streams.open()).as("streams open once the stalled one timed out").isZero();
        }
    }

    @Test
    void aClientThatReadsKeepsItsStream() throws Exception {
        String event = "event: stats\ndata: " + "y".repeat(1024) + "\n\n";
        try (Socket reader = connect()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> streams.open() == 1);
            InputStream in = reader.getInputStream();
            byte[] buffer = new byte[64 * 1024];
            long end = System.nanoTime() + WRITE_TIMEOUT.multipliedBy(3).toNanos();
            long read = 0;
            while (System.nanoTime() < end) {
                streams.publish(null, "stats", event);
                read += in.read(buffer);
            }
            assertThat(read).isGreaterThan(1024);
            assertThat(streams.open()).as("the reading client's stream").isEqualTo(1);
        }
    }
}
