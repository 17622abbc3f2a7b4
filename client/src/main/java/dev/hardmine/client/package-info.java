/**
 * The trainer's side of hardmine: publish the embeddings of every training batch, read back the
 * triplets mined from them, and feed the mined samples into the next batches.
 *
 * <ul>
 *   <li>{@link dev.hardmine.client.EmbeddingPublisher} — one call per training batch
 *       ({@code float[][]} or a {@link java.nio.FloatBuffer} of a tensor's memory), asynchronous,
 *       idempotent, at most {@code maxInFlightBatches} batches unacknowledged (then it blocks).</li>
 *   <li>{@link dev.hardmine.client.MinedBatchSubscriber} — the batches mined from one worker's own
 *       input, or a consumer group's share of a job's; stale ones dropped; pull
 *       ({@code poll}, {@code iterator}) or callback ({@code start}).</li>
 *   <li>{@link dev.hardmine.client.MemorySampleCache} — the memory samples that come back with the
 *       mined batches, as a trainer-side memory for the loss.</li>
 *   <li>{@link dev.hardmine.client.IdentityNeighborsSubscriber} and
 *       {@link dev.hardmine.client.HardIdentitySampler} — batches of mutually confusable
 *       identities from the job's hard-identity neighbours.</li>
 * </ul>
 *
 * <p>A complete loop against {@code java -jar target/hardmine.jar demo --no-synthetic}, with random
 * embeddings in place of a model's (P = 8 identities × K = 4 images a batch). It asks hardmine for
 * each anchor's 16 nearest memory negatives and 4 farthest memory positives and keeps what comes
 * back in a {@link dev.hardmine.client.MemorySampleCache} of 2 048 entries: the extra candidates
 * of an XBM-style contrastive loss, drawn from the memory all the job's workers share (the mode
 * that made the PyTorch example's model better, see the README):
 * <pre>{@code
 * try (EmbeddingPublisher publisher = EmbeddingPublisher.builder()
 *          .bootstrapServers("127.0.0.1:9092").registryUrl("http://127.0.0.1:8081")
 *          .jobId("my-job").workerId("rank-0").memorySamples(16, 4).build();
 *      MinedBatchSubscriber mined = MinedBatchSubscriber.builder()
 *          .bootstrapServers("127.0.0.1:9092").registryUrl("http://127.0.0.1:8081")
 *          .jobId("my-job").ownBatchesOf("rank-0").build()) {
 *     MemorySampleCache memory = new MemorySampleCache(2048, 50);
 *     Random random = new Random(0);
 *     for (long step = 0; step < 100; step++) {
 *         List<String> ids = new ArrayList<>();
 *         List<String> labels = new ArrayList<>();
 *         float[][] embeddings = new float[32][16];
 *         for (int i = 0; i < 32; i++) {
 *             long identity = (step * 8 + i / 4) % 50;
 *             ids.add("img-" + identity + "-" + i % 4);
 *             labels.add("person-" + identity);
 *             for (int d = 0; d < 16; d++) {
 *                 embeddings[i][d] = (float) random.nextGaussian();
 *             }
 *         }
 *         publisher.publish(step, ids, labels, embeddings);
 *         for (MinedBatch batch : mined.poll(Duration.ZERO)) {
 *             memory.add(batch);
 *         }
 *         MemorySampleCache.Snapshot extra = memory.snapshot(step);
 *         // a trainer adds extra.embeddings() (extra.size() rows of extra.dim()) with extra.labels()
 *         // to the loss of its next batch as constants
 *     }
 *     publisher.flush();
 * }
 * }</pre>
 * {@code MinedBatch} and {@code Triplet} are the classes generated from {@code schemas/MinedBatch.avsc}
 * ({@code dev.hardmine.avro}).
 */
package dev.hardmine.client;
