package dev.hardmine.testing;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.Sample;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** Ways to break a valid record, for the bad-input tests of the topology and of the service. */
public final class BadRecords {
    private BadRecords() {
    }

    /** The wire-format bytes with another magic byte. */
    public static byte[] withFirstByte(byte[] bytes, byte first) {
        byte[] copy = bytes.clone();
        copy[0] = first;
        return copy;
    }

    /** The wire-format bytes pointing at another schema id. */
    public static byte[] withSchemaId(byte[] bytes, int id) {
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy, 1, 4).putInt(id);
        return copy;
    }

    /** The batch with its first sample's embedding bytes replaced (and every other sample dropped). */
    public static EmbeddingBatch withEmbedding(EmbeddingBatch b, byte[] embedding) {
        Sample s = b.getSamples().get(0);
        return EmbeddingBatch.newBuilder(b).setSamples(List.of(new Sample(s.getSampleId(), s.getLabel(),
                ByteBuffer.wrap(embedding)))).build();
    }

    /** Little-endian float32 bytes. */
    public static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }
}
