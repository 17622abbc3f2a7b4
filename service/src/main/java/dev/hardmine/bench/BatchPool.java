package dev.hardmine.bench;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.Sample;
import dev.hardmine.mining.Embeddings;
import dev.hardmine.mining.SampleBatch;
import dev.hardmine.registry.internals.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * One publisher's batches, generated and Avro-encoded before the clock starts: a send then costs
 * the encoding of the batch's header fields (ids, step, timestamp) and one copy of the samples.
 *
 * <p>An EmbeddingBatch in Avro's binary encoding is its fields in schema order, so a record is the
 * registry header, then {@code job_id … dim} encoded at send time, then the samples array encoded
 * here once. Sample ids are unique to the pool entry, so a pool larger than the memory fills it
 * with distinct entries; later rounds re-publish the same ids, as a training run does every epoch.
 */
final class BatchPool {
    private final List<byte[]> encodedSamples;
    private final int dim;
    private final int batchSize;

    private BatchPool(List<byte[]> encodedSamples, int dim, int batchSize) {
        this.encodedSamples = encodedSamples;
        this.dim = dim;
        this.batchSize = batchSize;
    }

    /**
     * {@code batches} batches of {@code identities} identities × {@code perIdentity} samples drawn
     * from {@code data}, sample ids prefixed with {@code prefix}.
     */
    static BatchPool generate(SyntheticEmbeddings data, String prefix, int batches, int identities, int perIdentity) {
        List<byte[]> encoded = new ArrayList<>(batches);
        SpecificDatumWriter<List<Sample>> writer =
                new SpecificDatumWriter<>(EmbeddingBatch.getClassSchema().getField("samples").schema());
        int dim = data.dim();
        for (int b = 0; b < batches; b++) {
            SampleBatch batch = data.batch(prefix + "-" + b, b, 0, data.identities(), identities, perIdentity);
            List<Sample> samples = new ArrayList<>(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                samples.add(new Sample(batch.sampleId(i), batch.label(i),
                        Embeddings.encodeLittleEndian(batch.embeddings(), i * dim, dim)));
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream(batch.size() * (4 * dim + 32));
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            try {
                writer.write(samples, encoder);
                encoder.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            encoded.add(out.toByteArray());
        }
        return new BatchPool(List.copyOf(encoded), dim, identities * perIdentity);
    }

    int batchSize() {
        return batchSize;
    }

    /**
     * The value bytes of an EmbeddingBatch in the registry's wire format, with the samples of pool
     * entry {@code index % size()}.
     */
    byte[] record(int schemaId, String jobId, String workerId, String batchId, long step, long producedAtMillis,
                  long index) {
        byte[] samples = encodedSamples.get((int) (index % encodedSamples.size()));
        ByteArrayOutputStream header = new ByteArrayOutputStream(128);
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(header, null);
        try {
            encoder.writeString(jobId);
            encoder.writeString(workerId);
            encoder.writeString(batchId);
            encoder.writeLong(step);
            encoder.writeString("bench");
            encoder.writeLong(producedAtMillis);
            encoder.writeInt(dim);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] fields = header.toByteArray();
        byte[] out = new byte[WireFormat.HEADER_SIZE + fields.length + samples.length];
        WireFormat.writeHeader(out, schemaId);
        System.arraycopy(fields, 0, out, WireFormat.HEADER_SIZE, fields.length);
        System.arraycopy(samples, 0, out, WireFormat.HEADER_SIZE + fields.length, samples.length);
        return out;
    }
}
