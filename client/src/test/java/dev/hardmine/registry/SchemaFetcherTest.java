package dev.hardmine.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.retry.Backoff;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Writer schemas fetched in the background from a registry over HTTP that fails, then answers. */
class SchemaFetcherTest {
    private static final int ID = 7;

    private final ScriptedHttpServer server;
    private final SchemaRegistryClient client;
    private final SchemaFetcher fetcher;

    SchemaFetcherTest() throws Exception {
        server = new ScriptedHttpServer(); // unscripted requests get a 500
        client = SchemaRegistryClient.create(RegistryClientConfig.of(server.url())
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2))
                .withRetries(0, Duration.ZERO, Duration.ZERO));
        fetcher = new SchemaFetcher(client, Backoff.fixed(Duration.ofMillis(50)), Duration.ofMillis(200));
    }

    @AfterEach
    void stop() {
        fetcher.close();
        client.close();
        server.close();
    }

    @Test
    void aPayloadWaitsWhileTheRegistryFailsAndIsDecodedFromTheCacheOnceItAnswers() throws Exception {
        byte[] payload = payload(TestRecords.embeddingBatch());

        assertThat(fetcher.isReady(payload)).as("ready while the registry answers 500").isFalse();
        assertThat(fetcher.isReady(payload)).isFalse();
        assertThat(fetcher.waitingFor()).get().asString().contains(server.url()).contains("[" + ID + "]");
        await().atMost(Duration.ofSeconds(10)).until(() -> server.requests().size() >= 3); // retried meanwhile

        server.answer(200, new ObjectMapper().createObjectNode()
                .put("schema", EmbeddingBatch.getClassSchema().toString()).toString());
        await().atMost(Duration.ofSeconds(10)).until(() -> fetcher.isReady(payload));
        assertThat(fetcher.waitingFor()).isEmpty();
        int asked = server.requests().size();
        EmbeddingBatch decoded = new AvroDeserializer<>(EmbeddingBatch.class, client).deserialize("t", payload);
        assertThat(decoded).isEqualTo(TestRecords.embeddingBatch());
        assertThat(server.requests()).as("decoded from the client's cache").hasSize(asked);
    }

    @Test
    void aDefiniteNoIsReadyAtOnceAndDecodingSaysUnknownSchemaId() throws Exception {
        byte[] payload = payload(TestRecords.embeddingBatch());
        server.answer(404, "{\"error_code\":40403,\"message\":\"Schema 7 not found\"}")
                .answer(404, "{\"error_code\":40403,\"message\":\"Schema 7 not found\"}");

        assertThat(fetcher.isReady(payload)).isTrue();
        assertThat(fetcher.waitingFor()).isEmpty();
        assertThatThrownBy(() -> new AvroDeserializer<>(EmbeddingBatch.class, client).deserialize("t", payload))
                .isInstanceOf(UnknownSchemaIdException.class);
    }

    /**
     * A registry that refuses the client (a wrong password rotated in, say) says nothing about the
     * schema: the payload waits, and its fetch goes on, until the registry gives it.
     */
    @Test
    void aRefusedClientWaitsForTheSchemaAndDoesNotTakeItForANo() throws Exception {
        byte[] payload = payload(TestRecords.embeddingBatch());
        server.answer(401, "{\"error_code\":40101,\"message\":\"Unauthorized\"}")
                .answer(401, "{\"error_code\":40101,\"message\":\"Unauthorized\"}");

        assertThat(fetcher.isReady(payload)).as("ready while the registry answers 401").isFalse();
        assertThat(fetcher.waitingFor()).get().asString().contains("[" + ID + "]");
        await().atMost(Duration.ofSeconds(10)).until(() -> server.requests().size() >= 3); // asked again

        server.answer(200, new ObjectMapper().createObjectNode()
                .put("schema", EmbeddingBatch.getClassSchema().toString()).toString());
        await().atMost(Duration.ofSeconds(10)).until(() -> fetcher.isReady(payload));
        assertThat(new AvroDeserializer<>(EmbeddingBatch.class, client).deserialize("t", payload))
                .isEqualTo(TestRecords.embeddingBatch());
    }

    /**
     * A rejected TLS certificate fails the request at once, not retried by the client, but it is no
     * answer about the schema: the payload waits for the certificate to be trusted, it does not
     * become a definite no (which would dead-letter a valid record).
     */
    @Test
    void aRejectedCertificateIsNoAnswerAndThePayloadWaits() throws Exception {
        AtomicBoolean rejecting = new AtomicBoolean(true);
        SchemaRegistryClient tls = new SchemaRegistryClient() {
            @Override
            public Schema getSchemaById(int id) {
                if (rejecting.get()) {
                    throw new SchemaRegistryException(SchemaRegistryException.NO_RESPONSE,
                            SchemaRegistryException.NO_ERROR_CODE,
                            "GET /schemas/ids/" + id + " failed, the registry's TLS certificate was rejected", null, false);
                }
                return EmbeddingBatch.getClassSchema();
            }

            @Override
            public int register(String subject, Schema schema) {
                throw new UnsupportedOperationException();
            }

            @Override
            public RegisteredSchema lookup(String subject, Schema schema) {
                throw new UnsupportedOperationException();
            }

            @Override
            public RegisteredSchema getLatestVersion(String subject) {
                throw new UnsupportedOperationException();
            }

            @Override
            public boolean testCompatibility(String subject, Schema schema) {
                throw new UnsupportedOperationException();
            }
        };
        byte[] payload = payload(TestRecords.embeddingBatch());
        try (SchemaFetcher waiting = new SchemaFetcher(tls, Backoff.fixed(Duration.ofMillis(50)), Duration.ofMillis(100))) {
            assertThat(waiting.isReady(payload)).as("ready while the certificate is rejected").isFalse();
            assertThat(waiting.waitingFor()).get().asString().contains("certificate was rejected");

            rejecting.set(false);
            await().atMost(Duration.ofSeconds(10)).until(() -> waiting.isReady(payload));
            assertThat(waiting.waitingFor()).isEmpty();
        }
    }

    @Test
    void aPayloadWithoutASchemaIdNeverWaits() {
        assertThat(fetcher.isReady(new byte[] {1, 0, 0, 0, 7, 0})).isTrue();
        assertThat(fetcher.isReady(new byte[] {0, 0})).isTrue();
        assertThat(server.requests()).isEmpty();
    }

    private static byte[] payload(EmbeddingBatch batch) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(ID).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<EmbeddingBatch>(EmbeddingBatch.getClassSchema()).write(batch, encoder);
        encoder.flush();
        return out.toByteArray();
    }
}
