package dev.hardmine.mining;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A brute-force model of docs/DESIGN.md "Mining semantics" (§1, §3–5), written from the text and not
 * from the miner: the memory is a list of entries in insertion order, each distance is computed
 * pairwise in double precision and rounded once to float, and every (a, p, n) is enumerated.
 * It shares only the value types (settings, {@link MinedTriplet}, {@link BatchStatistics},
 * {@link MiningResult}) with the production code.
 *
 * <p>For embeddings whose distances are exact in float — small integers with euclidean and
 * squared-euclidean; integer vectors with |x|² ∈ {0, 1, 4, 16} with cosine or {@code normalize},
 * where every quotient by a norm is a power of two — the miner must agree with it bit for bit,
 * whatever order the matrix product sums in.
 *
 * <p>Distance-weighted sampling is random: for that strategy the model emits no triplet; tests
 * check the draws against {@link #distance} and {@link #entries()} instead.
 */
final class MiningReference {

    /** One memory entry; {@code embedding} as ingested (normalised when the job normalises). */
    record Entry(String id, String label, long step, float[] embedding) {
    }

    private final MemoryLimits limits;
    private final List<Entry> memory = new ArrayList<>();
    private long newestStep = Long.MIN_VALUE;

    MiningReference(MemoryLimits limits) {
        this.limits = limits;
    }

    /** Live entries, oldest inserted first. */
    List<Entry> entries() {
        return List.copyOf(memory);
    }

    /** Enqueues {@code batch}, applies the eviction rules, then mines the batch against the memory. */
    MiningResult mine(SampleBatch batch, MiningSettings settings) {
        List<Entry> anchors = ingest(batch, settings.normalize());
        List<String> evicted = enqueue(anchors);
        return mineAgainst(memory, anchors, settings, evicted);
    }

    /** Enqueues {@code batch} without mining it: builds a large memory without the cost of mining it. */
    List<String> enqueueOnly(SampleBatch batch, boolean normalize) {
        return enqueue(ingest(batch, normalize));
    }

    /** The batch's samples as they enter the memory. */
    static List<Entry> ingest(SampleBatch batch, boolean normalize) {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            float[] x = new float[batch.dim()];
            System.arraycopy(batch.embeddings(), i * batch.dim(), x, 0, batch.dim());
            if (normalize) {
                double norm = Math.sqrt(dot(x, x));
                if (norm > 0) {
                    for (int k = 0; k < x.length; k++) {
                        x[k] = (float) (x[k] / norm);
                    }
                }
            }
            out.add(new Entry(batch.sampleId(i), batch.label(i), batch.step(), x));
        }
        return out;
    }

    /** §1: replace by sample id, then per identity, then by age, then the total cap. */
    private List<String> enqueue(List<Entry> batch) {
        for (Entry e : batch) {
            memory.removeIf(m -> m.id().equals(e.id()));
            memory.add(e);
            newestStep = Math.max(newestStep, e.step());
        }
        List<String> evicted = new ArrayList<>();
        if (limits.perIdentity() > 0) {
            Set<String> labels = new LinkedHashSet<>();
            memory.forEach(e -> labels.add(e.label()));
            for (String label : labels) {
                while (memory.stream().filter(e -> e.label().equals(label)).count() > limits.perIdentity()) {
                    Entry oldest = memory.stream().filter(e -> e.label().equals(label)).findFirst().orElseThrow();
                    memory.remove(oldest);
                    evicted.add(oldest.id());
                }
            }
        }
        if (limits.maxAgeSteps() > 0) {
            for (Iterator<Entry> it = memory.iterator(); it.hasNext(); ) {
                Entry e = it.next();
                if (e.step() < newestStep - limits.maxAgeSteps()) {
                    it.remove();
                    evicted.add(e.id());
                }
            }
        }
        if (limits.maxEmbeddings() > 0) {
            while (memory.size() > limits.maxEmbeddings()) {
                evicted.add(memory.remove(0).id());
            }
        }
        return evicted;
    }

    /**
     * §3–5 for {@code anchors} against {@code memory} (insertion order), with no state: the
     * memory is whatever the caller says it is.
     */
    static MiningResult mineAgainst(List<Entry> memory, List<Entry> anchors, MiningSettings s, List<String> evicted) {
        float margin = s.margin();
        List<MinedTriplet> triplets = new ArrayList<>();
        long valid = 0;
        long hard = 0;
        long semiHard = 0;
        long easy = 0;
        double lossBatchHard = 0;
        double lossWeighted = 0;
        double semiHardSum = 0;
        long positivePairs = 0;
        List<List<Integer>> sampledNegatives = new ArrayList<>();
        List<List<Integer>> sampledPositives = new ArrayList<>();
        for (Entry a : anchors) {
            int m = memory.size();
            float[] d = new float[m];
            List<Integer> pos = new ArrayList<>();
            List<Integer> neg = new ArrayList<>();
            for (int j = 0; j < m; j++) {
                Entry e = memory.get(j);
                d[j] = distance(s.distance(), a.embedding(), e.embedding());
                if (!e.label().equals(a.label())) {
                    neg.add(j);
                } else if (!e.id().equals(a.id())) {
                    pos.add(j);
                }
            }

            // Memory samples: nearest negatives, farthest positives; ties to the earlier inserted.
            List<Integer> byNearest = new ArrayList<>(neg);
            byNearest.sort(Comparator.<Integer>comparingDouble(n -> d[n]).thenComparingInt(n -> n));
            sampledNegatives.add(byNearest.subList(0, Math.min(s.memorySampling().negatives(), byNearest.size())));
            List<Integer> byFarthest = new ArrayList<>(pos);
            byFarthest.sort(Comparator.<Integer>comparingDouble(p -> -d[p]).thenComparingInt(p -> p));
            sampledPositives.add(byFarthest.subList(0, Math.min(s.memorySampling().positives(), byFarthest.size())));

            // TF-Addons semi-hard loss, over every positive pair, valid anchor or not.
            for (int p : pos) {
                float dn;
                if (neg.isEmpty()) {
                    dn = 0f;
                } else {
                    float above = Float.POSITIVE_INFINITY;
                    float farthest = Float.NEGATIVE_INFINITY;
                    for (int n : neg) {
                        if (d[n] > d[p] && d[n] < above) {
                            above = d[n];
                        }
                        farthest = Math.max(farthest, d[n]);
                    }
                    dn = above != Float.POSITIVE_INFINITY ? above : farthest;
                }
                semiHardSum += Math.max(0.0, (double) d[p] - dn + margin);
                positivePairs++;
            }
            if (pos.isEmpty() || neg.isEmpty()) {
                continue;
            }
            valid++;

            List<int[]> all = new ArrayList<>();
            for (int p : pos) {
                for (int n : neg) {
                    all.add(new int[] {p, n});
                    float gap = d[n] - d[p];
                    if (gap <= 0f) {
                        hard++;
                    } else if (gap <= margin) {
                        semiHard++;
                    } else {
                        easy++;
                    }
                }
            }

            int hardestP = pos.get(0);
            for (int p : pos) {
                if (d[p] > d[hardestP]) {
                    hardestP = p;
                }
            }
            int nearestN = neg.get(0);
            for (int n : neg) {
                if (d[n] < d[nearestN]) {
                    nearestN = n;
                }
            }
            lossBatchHard += Math.max(0.0, (double) d[hardestP] - d[nearestN] + margin);
            lossWeighted += weightedLoss(d, pos, neg, margin);

            switch (s.strategy()) {
                case BATCH_HARD -> triplets.add(triplet(memory, a, hardestP, nearestN, d));
                case HARD, SEMI_HARD, EASY, ALL -> {
                    List<int[]> chosen = new ArrayList<>();
                    for (int[] t : all) {
                        if (inClass(s.strategy(), d[t[0]], d[t[1]], margin)) {
                            chosen.add(t);
                        }
                    }
                    // Memory indexes are insertion order.
                    chosen.sort(Comparator.<int[]>comparingDouble(t -> d[t[1]] - d[t[0]])
                            .thenComparingInt(t -> t[0])
                            .thenComparingDouble(t -> d[t[1]])
                            .thenComparingInt(t -> t[1]));
                    int keep = s.maxPerAnchor() > 0 ? Math.min(s.maxPerAnchor(), chosen.size()) : chosen.size();
                    for (int[] t : chosen.subList(0, keep)) {
                        triplets.add(triplet(memory, a, t[0], t[1], d));
                    }
                }
                case N_PAIR -> {
                    List<Integer> nearestPerLabel = new ArrayList<>();
                    for (int n : neg) {
                        Integer same = null;
                        for (int i = 0; i < nearestPerLabel.size(); i++) {
                            if (memory.get(nearestPerLabel.get(i)).label().equals(memory.get(n).label())) {
                                same = i;
                            }
                        }
                        if (same == null) {
                            nearestPerLabel.add(n);
                        } else if (d[n] < d[nearestPerLabel.get(same)]) {
                            nearestPerLabel.set(same, n);
                        }
                    }
                    nearestPerLabel.sort(Comparator.<Integer>comparingDouble(n -> d[n]).thenComparingInt(n -> n));
                    for (int n : nearestPerLabel.subList(0, Math.min(s.negativesPerAnchor(), nearestPerLabel.size()))) {
                        triplets.add(triplet(memory, a, hardestP, n, d));
                    }
                }
                case DISTANCE_WEIGHTED -> {
                    // Random draws: checked by the tests against distance() and entries().
                }
                default -> throw new IllegalArgumentException(s.strategy().toString());
            }
        }

        double sumAp = 0;
        double sumAn = 0;
        for (MinedTriplet t : triplets) {
            sumAp += t.dAp();
            sumAn += t.dAn();
        }
        long labels = memory.stream().map(Entry::label).distinct().count();
        BatchStatistics stats = new BatchStatistics(anchors.size(), valid, hard, semiHard, easy,
                valid == 0 ? 0 : lossBatchHard / valid,
                positivePairs == 0 ? 0 : semiHardSum / positivePairs,
                valid == 0 ? 0 : lossWeighted / valid,
                triplets.isEmpty() ? 0 : sumAp / triplets.size(),
                triplets.isEmpty() ? 0 : sumAn / triplets.size(),
                memory.size(), labels, 0.0);
        return new MiningResult(triplets, stats, evicted,
                memorySamples(memory, sampledNegatives, sampledPositives, s.memorySampling()));
    }

    /**
     * Round-robin by rank over the anchors (an anchor's negative before its positive), each memory
     * entry once, stopping before the first that takes the total over the byte bound. Entries
     * carry seq -1: the reference knows insertion order, not the miner's numbering.
     */
    private static List<MemoryBank.Entry> memorySamples(List<Entry> memory, List<List<Integer>> negatives,
                                                        List<List<Integer>> positives, MemorySampling sampling) {
        List<MemoryBank.Entry> out = new ArrayList<>();
        Set<Integer> taken = new LinkedHashSet<>();
        long bytes = 0;
        for (int rank = 0; rank < Math.max(sampling.negatives(), sampling.positives()); rank++) {
            for (int a = 0; a < negatives.size(); a++) {
                for (List<Integer> ranked : List.of(negatives.get(a), positives.get(a))) {
                    if (rank >= ranked.size() || taken.contains(ranked.get(rank))) {
                        continue;
                    }
                    Entry e = memory.get(ranked.get(rank));
                    bytes += 4L * e.embedding().length
                            + e.id().getBytes(StandardCharsets.UTF_8).length
                            + e.label().getBytes(StandardCharsets.UTF_8).length + 8;
                    if (bytes > sampling.maxBytes()) {
                        return out;
                    }
                    taken.add(ranked.get(rank));
                    out.add(new MemoryBank.Entry(e.id(), e.label(), e.step(), -1, e.embedding().clone()));
                }
            }
        }
        return out;
    }

    /** §3: the class by the float32 gap, as PML's TripletMarginMiner computes it. */
    private static boolean inClass(Strategy strategy, float dAp, float dAn, float margin) {
        float gap = dAn - dAp;
        return switch (strategy) {
            case HARD -> gap <= 0f;
            case SEMI_HARD -> gap > 0f && gap <= margin;
            case EASY -> gap > margin;
            case ALL -> gap <= margin;
            default -> throw new IllegalArgumentException(strategy.toString());
        };
    }

    /**
     * fast-reid weighted_example_mining for one anchor: softmax(d) over P(a) and the anchor
     * itself at 0, softmax(−d) over N(a).
     */
    private static double weightedLoss(float[] d, List<Integer> pos, List<Integer> neg, float margin) {
        double maxAp = 0; // the anchor's own distance
        for (int p : pos) {
            maxAp = Math.max(maxAp, d[p]);
        }
        double apWeights = Math.exp(0 - maxAp);
        double apSum = 0;
        for (int p : pos) {
            double w = Math.exp(d[p] - maxAp);
            apWeights += w;
            apSum += w * d[p];
        }
        double minAn = Double.POSITIVE_INFINITY;
        for (int n : neg) {
            minAn = Math.min(minAn, d[n]);
        }
        double anWeights = 0;
        double anSum = 0;
        for (int n : neg) {
            double w = Math.exp(minAn - d[n]);
            anWeights += w;
            anSum += w * d[n];
        }
        return Math.max(0.0, apSum / apWeights - anSum / anWeights + margin);
    }

    private static MinedTriplet triplet(List<Entry> memory, Entry a, int p, int n, float[] d) {
        Entry pe = memory.get(p);
        Entry ne = memory.get(n);
        return new MinedTriplet(a.id(), pe.id(), ne.id(), a.label(), ne.label(), d[p], d[n], pe.step(), ne.step());
    }

    /** §2, in double precision, rounded once to float. A zero vector is at cosine distance 1 from everything. */
    static float distance(Distance kind, float[] x, float[] y) {
        switch (kind) {
            case EUCLIDEAN:
                return (float) Math.sqrt(squaredDistance(x, y));
            case SQUARED_EUCLIDEAN:
                return (float) squaredDistance(x, y);
            default:
                double nx = Math.sqrt(dot(x, x));
                double ny = Math.sqrt(dot(y, y));
                if (nx == 0 || ny == 0) {
                    return 1f;
                }
                return (float) (1.0 - dot(x, y) / (nx * ny));
        }
    }

    private static double squaredDistance(float[] x, float[] y) {
        double sum = 0;
        for (int k = 0; k < x.length; k++) {
            double diff = (double) x[k] - y[k];
            sum += diff * diff;
        }
        return sum;
    }

    private static double dot(float[] x, float[] y) {
        double sum = 0;
        for (int k = 0; k < x.length; k++) {
            sum += (double) x[k] * y[k];
        }
        return sum;
    }
}
