package dev.hardmine.client;

import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.Neighbor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * P × K batches built from groups of mutually confusable identities — a seed identity and its
 * nearest neighbours from hardmine's hard-identity neighbours ({@code <prefix>neighbors}, read
 * with {@link IdentityNeighborsSubscriber}) — with a share of random identities, so that every
 * identity keeps being seen and the neighbours keep being measured. Doppelganger mining
 * (Smirnov et al. 2017) and SCHEM (Suh et al. 2019) build batches this way.
 *
 * <p>Per batch: {@code round(randomShare · P)} identities are random; the others come in groups
 * of at most {@code groupSize}: a seed drawn among the identities that have neighbours, then its
 * neighbours highest score first, skipping identities already in the batch. Until enough
 * identities have neighbours, random ones fill the batch. Each identity gives K of its samples,
 * drawn without replacement (with replacement when it has fewer than K). The batch size is
 * always P × K. Deterministic for a seed and the same sequence of calls.
 *
 * <p>Not thread-safe.
 */
public final class HardIdentitySampler {
    private final List<String> labels;
    private final Map<String, int[]> samplesOf;
    private final int p;
    private final int k;
    private final double randomShare;
    private final int groupSize;
    private final Random random;
    /** Latest neighbours of each label that has any, in the order labels first got them. */
    private final Map<String, List<String>> neighbors = new HashMap<>();
    private final List<String> seeds = new ArrayList<>();

    /** Half of each batch random: the share of the evaluated recipe (docs/EVALUATION.md). */
    public static final double DEFAULT_RANDOM_SHARE = 0.5;
    /** Groups of a seed identity and its 3 nearest neighbours. */
    public static final int DEFAULT_GROUP_SIZE = 4;

    /** Half groups of {@value #DEFAULT_GROUP_SIZE} confusable identities, half random identities. */
    public HardIdentitySampler(Map<String, int[]> samplesByLabel, int p, int k, long seed) {
        this(samplesByLabel, p, k, DEFAULT_RANDOM_SHARE, DEFAULT_GROUP_SIZE, seed);
    }

    /**
     * @param samplesByLabel the training set: each identity's sample indices (at least one each)
     * @param p              identities per batch
     * @param k              samples per identity
     * @param randomShare    share of the P identities drawn at random, in [0, 1]
     * @param groupSize      identities per group of confusable ones (seed included), ≥ 1
     * @param seed           seed of the draws
     */
    public HardIdentitySampler(Map<String, int[]> samplesByLabel, int p, int k, double randomShare, int groupSize,
                               long seed) {
        if (p < 1 || k < 1) {
            throw new IllegalArgumentException("P and K must be >= 1, got P=" + p + " K=" + k);
        }
        if (samplesByLabel.size() < p) {
            throw new IllegalArgumentException("P=" + p + " identities per batch, but the set has " + samplesByLabel.size());
        }
        if (!(randomShare >= 0 && randomShare <= 1)) {
            throw new IllegalArgumentException("randomShare must be in [0, 1], got " + randomShare);
        }
        if (groupSize < 1) {
            throw new IllegalArgumentException("groupSize must be >= 1, got " + groupSize);
        }
        samplesByLabel.forEach((label, samples) -> {
            if (samples.length == 0) {
                throw new IllegalArgumentException("identity " + label + " has no samples");
            }
        });
        this.labels = new ArrayList<>(new java.util.TreeSet<>(samplesByLabel.keySet()));
        this.samplesOf = Map.copyOf(samplesByLabel);
        this.p = p;
        this.k = k;
        this.randomShare = randomShare;
        this.groupSize = groupSize;
        this.random = new Random(seed);
    }

    /** Takes an identity's latest neighbours; identities outside the training set are ignored. */
    public void update(IdentityNeighbors record) {
        if (!samplesOf.containsKey(record.getLabel())) {
            return;
        }
        List<String> list = new ArrayList<>();
        for (Neighbor n : record.getNeighbors()) {
            if (samplesOf.containsKey(n.getLabel())) {
                list.add(n.getLabel());
            }
        }
        if (neighbors.put(record.getLabel(), list) == null) {
            seeds.add(record.getLabel());
        }
    }

    /** Identities with neighbours so far. */
    public int identitiesWithNeighbors() {
        return seeds.size();
    }

    /** The identities of the next batch: the groups first, then the random ones. */
    public List<String> nextIdentities() {
        Set<String> chosen = new LinkedHashSet<>();
        int hard = p - (int) Math.round(randomShare * p);
        for (int tries = 0; chosen.size() < hard && tries < 4 * p && !seeds.isEmpty(); tries++) {
            String seed = seeds.get(random.nextInt(seeds.size()));
            if (!chosen.add(seed)) {
                continue;
            }
            int inGroup = 1;
            for (String n : neighbors.get(seed)) {
                if (inGroup >= groupSize || chosen.size() >= hard) {
                    break;
                }
                if (chosen.add(n)) {
                    inGroup++;
                }
            }
        }
        while (chosen.size() < p) {
            chosen.add(labels.get(random.nextInt(labels.size())));
        }
        return List.copyOf(chosen);
    }

    /** The next batch: K sample indices of each of {@link #nextIdentities()}, identity by identity. */
    public int[] nextBatch() {
        int[] batch = new int[p * k];
        int i = 0;
        for (String label : nextIdentities()) {
            int[] samples = samplesOf.get(label);
            if (samples.length >= k) {
                int[] pool = samples.clone();
                for (int j = 0; j < k; j++) { // partial Fisher-Yates: k distinct samples
                    int pick = j + random.nextInt(pool.length - j);
                    int t = pool[j];
                    pool[j] = pool[pick];
                    pool[pick] = t;
                    batch[i++] = pool[j];
                }
            } else {
                for (int j = 0; j < k; j++) {
                    batch[i++] = samples[random.nextInt(samples.length)];
                }
            }
        }
        return batch;
    }
}
