#!/usr/bin/python3
"""A small PyTorch metric-learning training loop that uses hardmine.

Every step it embeds a P x K batch of a generated identity dataset (data.py, or glyphs.py) with a
tiny CNN, trains on a loss over the batch (batch-hard triplet or XBM's contrastive loss), and
publishes the batch's embeddings to hardmine (EmbeddingBatch, key = job id, Confluent wire format
through the registry). It reads the batches hardmine mined from its own input (key "job/worker")
as they arrive. What it does with them is the feed mode:

  memory        the memory embeddings hardmine sends back with each mined batch (it asks for them
                with a JobConfig) form a cross-batch memory: constant extra positives and
                negatives of the loss, no gradient through them (XBM, Wang et al., CVPR 2020);
                with XBM's contrastive loss and batches of confusable identities (below), the
                default (docs/EVALUATION.md says when it pays);
  triplets      the hardest mined triplets (anchor, positive, negative, by sample id = dataset
                index) go into its next batches, in place of random identities;
  local-memory  the same loss with the memory kept inside the trainer: a FIFO queue of its own
                last embeddings, as pytorch-metric-learning's CrossBatchMemory keeps it;
  none          nothing (publishes and reads all the same).

--sampler neighbors (the default) builds batches of mutually confusable identities from hardmine's
hard-identity neighbours (half groups of 4, half random identities); --sampler random draws P x K
at random; --sampler families groups the generated data's true families (an oracle). --workers W simulates W data-parallel workers of one job in one process,
synchronous like DDP.

    /usr/bin/python3 examples/python/train.py --bootstrap 127.0.0.1:9092 --registry http://127.0.0.1:8081

The last line of output is "SUMMARY {json}": steps, losses, mined batches consumed, mined
samples trained on, memory sizes, seconds per step, Recall@1 on held-out identities. Needs
Debian's python3-torch, python3-confluent-kafka, python3-avro and python3-requests (see
requirements.txt).
"""
import argparse
import heapq
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from hardmine_client import EmbeddingPublisher, JobConfigPublisher, MinedBatchSubscriber, NeighborsSubscriber

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, '..', '..', 'schemas')
DEFAULT_SCHEMA = os.path.join(SCHEMAS, 'EmbeddingBatch.avsc')
JOB_CONFIG_SCHEMA = os.path.join(SCHEMAS, 'JobConfig.avsc')
FEED_MODES = ('none', 'local-memory', 'memory', 'triplets')
MEMORY_MODES = ('local-memory', 'memory')


class EmbeddingNet(nn.Module):
    """S x S grey image (S >= 16) -> L2-normalised embedding."""

    def __init__(self, dim):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc1 = nn.Linear(32 * 4 * 4, 128)
        self.fc2 = nn.Linear(128, dim)
        # Centres the embeddings before normalising (BNNeck), so they do not start out collapsed.
        self.neck = nn.BatchNorm1d(dim)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        # 4 x 4 already at S = 16 (an identity there); larger images are max-pooled down to it.
        x = F.adaptive_max_pool2d(x, 4)
        x = F.relu(self.fc1(x.flatten(1)))
        return F.normalize(self.neck(self.fc2(x)), dim=1)


def distances(e):
    """Euclidean distances of L2-normalised rows, with a gradient that stays finite at 0."""
    return (2 - 2 * e @ e.t()).clamp_min(1e-12).sqrt()


def cross_distances(a, b):
    """Euclidean distances between the L2-normalised rows of a and those of b."""
    return (2 - 2 * a @ b.t()).clamp_min(1e-12).sqrt()


def batch_hard_loss(e, labels, margin, memory=None, ids=None):
    """Mean over anchors with a positive and a negative of max(0, hardest d_ap - hardest d_an + margin).

    Without a memory (or an empty one) the candidates are the other samples of the batch. With a
    memory (embeddings, labels, sample ids; constants) they are the batch and the memory together:
    each anchor's hardest positive and hardest negative among both; a memory entry of the anchor's
    own sample (ids: the batch's sample ids) is not a positive of it."""
    d = distances(e)
    same = labels[:, None] == labels[None, :]
    pos = same & ~torch.eye(len(labels), dtype=torch.bool)
    neg = ~same
    if memory is None or len(memory[1]) == 0:
        valid = pos.any(1) & neg.any(1)
        hardest_pos = d.masked_fill(~pos, 0).max(1).values
        hardest_neg = d.masked_fill(~neg, float('inf')).min(1).values
        return F.relu(hardest_pos - hardest_neg + margin)[valid].mean()
    mem_e, mem_labels, mem_ids = memory
    dm = cross_distances(e, mem_e)
    same_m = labels[:, None] == mem_labels[None, :]
    pos_m = same_m & (ids[:, None] != mem_ids[None, :])
    neg_m = ~same_m
    valid = (pos.any(1) | pos_m.any(1)) & (neg.any(1) | neg_m.any(1))
    hardest_pos = torch.maximum(d.masked_fill(~pos, 0).max(1).values, dm.masked_fill(~pos_m, 0).max(1).values)
    hardest_neg = torch.minimum(d.masked_fill(~neg, float('inf')).min(1).values,
                                dm.masked_fill(~neg_m, float('inf')).min(1).values)
    return F.relu(hardest_pos - hardest_neg + margin)[valid].mean()


def contrastive_loss(e_col, labels_col, e_row, labels_row, margin):
    """XBM's ContrastiveLoss (research-xbm, ret_benchmark/losses/contrastive_loss.py), vectorised:
    sim = e_col @ e_row.T; for each anchor i (a row of e_col) the positives are the sims with its
    label below 1 - 1e-5 (which leaves out itself), the negatives the sims with another label above
    the margin; loss_i = sum(1 - positives) + sum(negatives); the loss is the mean over anchors."""
    sim = e_col @ e_row.t()
    same = labels_col[:, None] == labels_row[None, :]
    pos = same & (sim < 1 - 1e-5)
    neg = ~same & (sim > margin)
    return (((1 - sim) * pos).sum(1) + (sim * neg).sum(1)).mean()


def recall_at_1(model, dataset):
    """Share of held-out images whose nearest other image has their identity."""
    model.eval()
    with torch.no_grad():
        e = model(torch.from_numpy(dataset.images))
    model.train()
    d = distances(e)
    d.fill_diagonal_(float('inf'))
    nearest = d.argmin(1).numpy()
    return float((dataset.labels[nearest] == dataset.labels).mean())


class Sampler:
    """P x K batches of dataset indices, from the given identities (default: all of them); mined
    triplets fed in take the place of random identities."""

    def __init__(self, labels, identities, p, k, rng, own=None):
        self.by_identity = [np.flatnonzero(labels == i) for i in range(identities)]
        self.own = np.arange(identities) if own is None else np.asarray(own)
        self.p, self.k, self.rng = p, k, rng

    def batch(self, fed):
        """Random identities first, then the fed triplets' samples as (a, p, n) triples at the end."""
        fed_ids = [i for t in fed for i in t]
        taken = set(fed_ids)
        identities = self.own[self.rng.choice(len(self.own), (self.p * self.k - len(fed_ids)) // self.k, replace=False)]
        random_part = []
        for identity in identities:
            free = [i for i in self.by_identity[identity] if i not in taken]
            chosen = self.rng.choice(free, min(self.k, len(free)), replace=False)
            random_part.extend(int(i) for i in chosen)
        return random_part + fed_ids


class GroupSampler(Sampler):
    """P x K batches from groups of mutually confusable identities plus random ones, as the Java
    client's HardIdentitySampler builds them: round(random_share * P) identities are random; the
    others come in groups of at most group_size, a seed drawn among the identities that have
    neighbours, then its neighbours in order, skipping identities already in the batch. Until
    identities have neighbours, random ones fill the batch.

    neighbors_of(identity) gives an identity's neighbours, best first: hardmine's (from the
    neighbours topic, see update) or, for the oracle, the other members of its true family."""

    def __init__(self, labels, identities, p, k, rng, own, random_share, group_size, families=None):
        super().__init__(labels, identities, p, k, rng, own)
        self.random_share, self.group_size = random_share, group_size
        self.owned = set(int(i) for i in self.own)
        self.neighbors, self.seeds = {}, []
        if families is not None:  # the oracle: every owned identity's family is known from the start
            for i in self.own:
                members = [int(j) for j in families[int(i)] if j != i and int(j) in self.owned]
                self.neighbors[int(i)] = members
                self.seeds.append(int(i))
            self.shuffle = True
        else:
            self.shuffle = False

    def update(self, identity, neighbors):
        """hardmine's latest neighbours of an identity (best first); identities of other workers are left out."""
        if identity not in self.owned:
            return
        if identity not in self.neighbors:
            self.seeds.append(identity)
        self.neighbors[identity] = [n for n in neighbors if n in self.owned]

    def identities(self):
        hard = self.p - int(round(self.random_share * self.p))
        chosen, taken = [], set()
        tries = 0
        while len(chosen) < hard and tries < 4 * self.p and self.seeds:
            tries += 1
            seed = self.seeds[self.rng.integers(len(self.seeds))]
            if seed in taken:
                continue
            chosen.append(seed)
            taken.add(seed)
            members = self.neighbors[seed]
            if self.shuffle:  # the oracle's family members in random order: any of them is a true neighbour
                members = [members[j] for j in self.rng.permutation(len(members))]
            in_group = 1
            for n in members:
                if in_group >= self.group_size or len(chosen) >= hard:
                    break
                if n not in taken:
                    chosen.append(n)
                    taken.add(n)
                    in_group += 1
        free = [int(i) for i in self.own if int(i) not in taken]
        chosen.extend(int(i) for i in self.rng.choice(free, self.p - len(chosen), replace=False))
        return chosen

    def batch(self, fed):
        if fed:
            raise ValueError('hard-identity batches take no fed triplets')
        out = []
        for identity in self.identities():
            out.extend(int(i) for i in self.rng.choice(self.by_identity[identity], self.k, replace=False))
        return out


class Feed:
    """Mined triplets waiting to be trained on, hardest (smallest d_an - d_ap) first."""

    def __init__(self, per_batch, max_staleness):
        self.per_batch, self.max_staleness = per_batch, max_staleness
        self.pending = []  # (gap, source step, (a, p, n))

    def add(self, mined):
        for t in mined['triplets']:
            ids = (int(t['anchor_id'][1:]), int(t['positive_id'][1:]), int(t['negative_id'][1:]))
            self.pending.append((t['d_an'] - t['d_ap'], mined['step'], ids))
        self.pending.sort(key=lambda x: x[0])
        del self.pending[16 * self.per_batch:]

    def take(self, step):
        """Up to per_batch triplets with no sample in common, none mined more than max_staleness steps ago."""
        out, used, keep = [], set(), []
        for gap, source_step, ids in self.pending:
            if step - source_step > self.max_staleness:
                continue
            if len(out) < self.per_batch and not used.intersection(ids) and len(set(ids)) == 3:
                out.append(ids)
                used.update(ids)
            else:
                keep.append((gap, source_step, ids))
        self.pending = keep
        return out


class LocalMemory:
    """local-memory: a FIFO queue of the last `size` embeddings (detached), labels and sample ids of
    one worker's own batches, like pytorch-metric-learning's CrossBatchMemory (a ring buffer)."""

    def __init__(self, size, dim):
        self.size = size
        self.embeddings = torch.zeros(size, dim)
        self.labels = torch.zeros(size, dtype=torch.long)
        self.ids = torch.zeros(size, dtype=torch.long)
        self.next, self.filled = 0, 0

    def add(self, embeddings, labels, ids):
        n = len(labels)
        if n >= self.size:  # only the newest `size` fit
            embeddings, labels, ids, n = embeddings[-self.size:], labels[-self.size:], ids[-self.size:], self.size
        slots = (self.next + torch.arange(n)) % self.size
        self.embeddings[slots] = embeddings.detach()
        self.labels[slots] = labels
        self.ids[slots] = ids
        self.next = (self.next + n) % self.size
        self.filled = min(self.size, self.filled + n)

    def get(self, step):
        """(embeddings, labels, sample ids) of the queue (the order does not matter to the losses)."""
        return self.embeddings[:self.filled], self.labels[:self.filled], self.ids[:self.filled]


class ReceivedMemory:
    """memory: the memory samples hardmine sent with one worker's mined batches, by sample id, at
    most `size`: a newer embedding (later step) of a sample replaces the older one; past `size`,
    the entries with the oldest embedding step go first (ties: the earliest arrived). Entries more
    than max_staleness steps behind the current step are kept but not used."""

    def __init__(self, size, dim, max_staleness):
        self.size, self.dim, self.max_staleness = size, dim, max_staleness
        self.entries = {}  # sample_id -> (step, arrival, embedding (np float32), label, index)
        self.arrivals = 0
        self.received = 0

    def add(self, samples):
        for s in samples:
            self.received += 1
            old = self.entries.get(s['sample_id'])
            if old is not None and old[0] >= s['step']:
                continue
            self.arrivals += 1
            self.entries[s['sample_id']] = (s['step'], self.arrivals, np.frombuffer(s['embedding'], '<f4'),
                                            int(s['label'][2:]), int(s['sample_id'][1:]))
        excess = len(self.entries) - self.size
        if excess > 0:
            for key, _ in heapq.nsmallest(excess, self.entries.items(), key=lambda kv: kv[1][:2]):
                del self.entries[key]

    def get(self, step):
        fresh = [e for e in self.entries.values() if step - e[0] <= self.max_staleness]
        if not fresh:
            return torch.zeros(0, self.dim), torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long)
        return (torch.from_numpy(np.stack([e[2] for e in fresh])),
                torch.tensor([e[3] for e in fresh], dtype=torch.long),
                torch.tensor([e[4] for e in fresh], dtype=torch.long))


def bn_buffers(model):
    return [b for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) for b in m.buffers()]


def family_precision(samplers, train, top):
    """Share of each identity's first `top` neighbours that belong to its true family, over all identities with neighbours."""
    hits = total = 0
    for sampler in samplers:
        for identity, neighbors in sampler.neighbors.items():
            family = set(train.families[identity])
            hits += sum(1 for n in neighbors[:top] if n in family)
            total += len(neighbors[:top])
    return hits / total if total else None


def load_dataset(name, seed):
    if name == 'families':
        from data import splits
    else:
        from glyphs import splits
    return splits(seed)


def key_value(text):
    """KEY=VALUE, for --kafka-config and --registry-config (the value may hold '=')."""
    key, sep, value = text.partition('=')
    if not sep or not key:
        raise argparse.ArgumentTypeError('expected KEY=VALUE, got %r' % text)
    return key, value


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bootstrap', default='127.0.0.1:9092', help='Kafka bootstrap servers (default %(default)s)')
    ap.add_argument('--registry', default='http://127.0.0.1:8081', help='schema registry URL (default %(default)s)')
    ap.add_argument('--kafka-config', action='append', default=[], metavar='KEY=VALUE', type=key_value,
                    help='a librdkafka setting for every producer and consumer, e.g. security.protocol=SASL_SSL, '
                         'sasl.mechanism=SCRAM-SHA-512, sasl.username=U, sasl.password=P, ssl.ca.location=ca.pem '
                         '(repeatable)')
    ap.add_argument('--registry-config', action='append', default=[], metavar='KEY=VALUE', type=key_value,
                    help='a schema registry client setting, e.g. basic.auth.user.info=USER:PASSWORD, '
                         'ssl.ca.location=ca.pem (repeatable)')
    ap.add_argument('--job', default='pytorch-example', help='job id (default %(default)s)')
    ap.add_argument('--worker', default='worker-0',
                    help='worker id; with --workers W > 1 the workers are <worker>-0 ... <worker>-(W-1) (default %(default)s)')
    ap.add_argument('--steps', type=int, default=600, help='training steps (default %(default)s)')
    ap.add_argument('--seed', type=int, default=0, help='seed of the model and of the sampler (default %(default)s)')
    ap.add_argument('--data-seed', type=int, default=0,
                    help='seed of the generated dataset and of --split identity (default %(default)s)')
    ap.add_argument('--dataset', choices=('families', 'glyphs'), default='families',
                    help='families: data.py; glyphs: glyphs.py (default %(default)s)')
    ap.add_argument('--identities-per-batch', '-P', type=int, default=16, help='P, per worker (default %(default)s)')
    ap.add_argument('--images-per-identity', '-K', type=int, default=4, help='K (default %(default)s)')
    ap.add_argument('--feed-mode', choices=FEED_MODES,
                    help='what to do with what hardmine sends back: none, local-memory (a memory kept by the trainer, '
                         'hardmine unused), memory (the memory embeddings hardmine sends), triplets (mined triplets in '
                         'the next batches) (default memory)')
    ap.add_argument('--no-feed', action='store_true', help='the same as --feed-mode none')
    ap.add_argument('--loss', choices=('batch-hard', 'contrastive'), default='contrastive',
                    help='batch-hard triplet loss or XBM\'s contrastive loss (default %(default)s)')
    ap.add_argument('--feed', type=int, default=8, help='triplets mode: mined triplets per batch at most (default %(default)s)')
    ap.add_argument('--max-staleness', type=int, default=50,
                    help='ignore triplets mined from batches, and (memory mode) memory embeddings computed, more '
                         'than this many steps ago (default %(default)s)')
    ap.add_argument('--margin', type=float, default=0.2, help='triplet margin (default %(default)s)')
    ap.add_argument('--contrastive-margin', type=float, default=0.5,
                    help='contrastive loss: negatives count when their cosine similarity is above this (default %(default)s)')
    ap.add_argument('--memory-size', type=int, default=2048,
                    help='memory modes: embeddings kept per worker (default %(default)s)')
    ap.add_argument('--memory-start', type=int, default=100,
                    help='memory modes: the memory enters the loss from this step on (default %(default)s)')
    ap.add_argument('--memory-weight', type=float, default=1.0,
                    help='contrastive loss: weight of the batch-vs-memory term (default %(default)s)')
    ap.add_argument('--local-enqueue', choices=('after', 'before'), default='before',
                    help='local-memory: put a batch in the queue after the step\'s loss (the memory holds earlier '
                         'batches only, as in memory mode) or before it (the memory includes the batch itself, as '
                         'research-xbm\'s trainer and CrossBatchMemory do) (default %(default)s)')
    ap.add_argument('--memory-negatives', type=int, default=16,
                    help='memory mode: nearest memory negatives per anchor asked of hardmine (default %(default)s)')
    ap.add_argument('--memory-positives', type=int, default=4,
                    help='memory mode: farthest memory positives per anchor asked of hardmine (default %(default)s)')
    ap.add_argument('--memory-samples-max-bytes', type=int,
                    help='memory mode: bound on the memory samples of one mined batch asked of hardmine (default: '
                         'the service\'s, 256 KiB)')
    ap.add_argument('--sampler', choices=('random', 'neighbors', 'families'), default='neighbors',
                    help='batches of random identities; or half (--random-share) groups of --group-size confusable '
                         'identities: neighbors = hardmine\'s hard-identity neighbours (asked for in the JobConfig), '
                         'families = the true families of the generated data (an oracle) (default %(default)s)')
    ap.add_argument('--random-share', type=float, default=0.5,
                    help='hard-identity batches: share of random identities (default %(default)s)')
    ap.add_argument('--group-size', type=int, default=4,
                    help='hard-identity batches: identities per group, seed included (default %(default)s)')
    ap.add_argument('--neighbors-per-identity', type=int, default=8,
                    help='--sampler neighbors: neighbours hardmine keeps per identity (default %(default)s)')
    ap.add_argument('--workers', type=int, default=1,
                    help='data-parallel workers of the job, simulated in this process like DDP (default %(default)s)')
    ap.add_argument('--split', choices=('identity', 'random'), default='identity',
                    help='with --workers > 1: identity = each worker samples its own share of the identities; '
                         'random = each worker samples the whole training set (default %(default)s)')
    ap.add_argument('--lr', type=float, default=1e-3, help='Adam learning rate (default %(default)s)')
    ap.add_argument('--dim', type=int, default=32, help='embedding dimension (default %(default)s)')
    ap.add_argument('--wait-first-mined', type=float, default=60,
                    help='before step 1, wait this many seconds at most for the first mined batch (default %(default)s)')
    ap.add_argument('--max-in-flight', type=int, default=8, help='unacknowledged batches per worker before publish waits')
    ap.add_argument('--max-lead', type=int, default=0,
                    help='wait before a step while the newest mined batch is more than this many steps behind it, '
                         'so that a stalled miner does not leave the memory or the triplets stale; 0 = never wait '
                         '(default %(default)s)')
    ap.add_argument('--max-lead-wait', type=float, default=30,
                    help='with --max-lead: seconds one step waits at most (default %(default)s)')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (default %(default)s)')
    ap.add_argument('--eval-every', type=int, default=0, help='also measure held-out Recall@1 every N steps')
    ap.add_argument('--schema', default=DEFAULT_SCHEMA, help='EmbeddingBatch.avsc')
    ap.add_argument('--job-config-schema', default=JOB_CONFIG_SCHEMA, help='JobConfig.avsc (memory mode)')
    args = ap.parse_args(argv)
    args.kafka_config, args.registry_config = dict(args.kafka_config), dict(args.registry_config)
    if args.no_feed:
        if args.feed_mode not in (None, 'none'):
            ap.error('--no-feed contradicts --feed-mode %s' % args.feed_mode)
        args.feed_mode = 'none'
    elif args.feed_mode is None:
        args.feed_mode = 'memory'
    if args.workers < 1:
        ap.error('--workers must be at least 1')
    if args.feed_mode == 'triplets' and args.sampler != 'random':
        ap.error('--feed-mode triplets puts mined triplets in place of random identities: it needs --sampler random')
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    started = time.monotonic()
    train, held_out = load_dataset(args.dataset, args.data_seed)
    model = EmbeddingNet(args.dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    W = args.workers
    workers = [args.worker] if W == 1 else ['%s-%d' % (args.worker, w) for w in range(W)]
    if W == 1:
        rngs, shares = [np.random.default_rng(args.seed)], [None]
    else:
        rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(args.seed).spawn(W)]
        if args.split == 'identity':  # identities dealt to the workers by a permutation of the data seed
            order = np.random.default_rng(args.data_seed).permutation(train.identities)
            shares = [np.sort(order[w::W]) for w in range(W)]
        else:
            shares = [None] * W
    if args.sampler == 'random':
        samplers = [Sampler(train.labels, train.identities, args.identities_per_batch, args.images_per_identity,
                            rngs[w], shares[w]) for w in range(W)]
    else:
        families = None
        if args.sampler == 'families':
            if not hasattr(train, 'families'):
                raise SystemExit('--sampler families needs a dataset with families (--dataset families)')
            families = train.families
        samplers = [GroupSampler(train.labels, train.identities, args.identities_per_batch, args.images_per_identity,
                                 rngs[w], shares[w], args.random_share, args.group_size, families)
                    for w in range(W)]
    feeds = [Feed(args.feed, args.max_staleness) for _ in range(W)]
    if args.feed_mode == 'local-memory':
        memories = [LocalMemory(args.memory_size, args.dim) for _ in range(W)]
    elif args.feed_mode == 'memory':
        memories = [ReceivedMemory(args.memory_size, args.dim, args.max_staleness) for _ in range(W)]
    else:
        memories = [None] * W
    recall_init = recall_at_1(model, held_out)

    secured = {'kafka_config': args.kafka_config, 'registry_config': args.registry_config}
    job_config = None
    overrides = {}
    if args.feed_mode == 'memory':
        # Ask hardmine for memory samples with every batch mined for this job, before the first batch.
        overrides = {'memory_negatives': args.memory_negatives, 'memory_positives': args.memory_positives}
        if args.memory_samples_max_bytes is not None:
            overrides['memory_samples_max_bytes'] = args.memory_samples_max_bytes
    if args.sampler == 'neighbors':
        overrides['neighbors_per_identity'] = args.neighbors_per_identity
    if overrides:
        # One JobConfig: a record replaces the job's previous one whole.
        job_config = JobConfigPublisher(args.bootstrap, args.registry, args.job_config_schema,
                                        **secured).publish(args.job, **overrides)
    neighbors = (NeighborsSubscriber(args.bootstrap, args.registry, args.job, **secured)
                 if args.sampler == 'neighbors' else None)
    subscriber = MinedBatchSubscriber(args.bootstrap, args.registry, args.job, workers, **secured)
    publisher = EmbeddingPublisher(args.bootstrap, args.registry, args.schema, args.job, workers[0],
                                   max_in_flight=args.max_in_flight * W, model_version='example-seed%d' % args.seed,
                                   **secured)
    worker_index = {w: i for i, w in enumerate(workers)}
    losses, fed_per_step, curve, memory_used = [], [], [], []
    step_seconds, compute_seconds = [], []
    counts = {'consumed': 0, 'stale': 0, 'memory_samples': 0, 'first_memory_step': None, 'neighbor_records': 0,
              'newest_mined_step': None, 'lead_waits': 0}
    first_fed_step = None
    dataset_ids = torch.arange(len(train.labels))

    def receive(step, timeout):
        if neighbors is not None:
            for record in neighbors.poll(0):
                counts['neighbor_records'] += 1
                identity = int(record['label'][2:])  # labels are 'id<identity>'
                for sampler in samplers:
                    sampler.update(identity, [int(n['label'][2:]) for n in record['neighbors']])
        for mined in subscriber.poll(timeout):
            w = worker_index[mined['worker_id']]
            counts['consumed'] += 1
            if counts['newest_mined_step'] is None or mined['step'] > counts['newest_mined_step']:
                counts['newest_mined_step'] = mined['step']
            samples = mined.get('memory_samples') or []
            counts['memory_samples'] += len(samples)
            if samples and counts['first_memory_step'] is None:
                counts['first_memory_step'] = step
            if args.feed_mode == 'memory':
                memories[w].add(samples)  # each entry is judged by the step of its own embedding
            if step - mined['step'] > args.max_staleness:
                counts['stale'] += 1
            elif args.feed_mode == 'triplets':
                feeds[w].add(mined)

    def behind(step):
        newest = counts['newest_mined_step']
        return args.max_lead > 0 and newest is not None and step - newest > args.max_lead

    def wait_while(step, condition, seconds):
        """Receives while condition() holds, for at most seconds; returns the seconds waited."""
        wait_started = time.monotonic()
        deadline = wait_started + seconds
        while condition() and time.monotonic() < deadline:
            receive(step, 0.1)
        return time.monotonic() - wait_started

    loop_started = time.monotonic()
    waited = 0.0
    lead_waited = 0.0
    try:
        for step in range(args.steps):
            step_started = time.monotonic()
            receive(step, 0)
            if step == 1 and args.wait_first_mined > 0:
                # hardmine's first batch pays for its start-up (native libraries, the job's state);
                # waiting for it once keeps a short run from outrunning the miner from the start.
                waited = wait_while(step, lambda: counts['consumed'] == 0, args.wait_first_mined)
                step_started += waited
            if behind(step):
                counts['lead_waits'] += 1
                lead_wait = wait_while(step, lambda: behind(step), args.max_lead_wait)
                lead_waited += lead_wait
                step_started += lead_wait
            compute_started = time.monotonic()
            use_memory = args.feed_mode in MEMORY_MODES and step >= args.memory_start
            batches, worker_losses, fed_now, saved_bn = [], [], 0, None
            for w in range(W):
                fed = feeds[w].take(step) if args.feed_mode == 'triplets' else []
                fed_now += 3 * len(fed)
                indices = samplers[w].batch(fed)
                # One forward pass per worker, as DDP runs them (each worker's own BatchNorm statistics).
                embeddings = model(torch.from_numpy(train.images[indices]))
                if W > 1 and w == 0:
                    # DDP broadcasts rank 0's buffers: the model's running statistics are worker 0's.
                    saved_bn = [b.clone() for b in bn_buffers(model)]
                labels = torch.from_numpy(train.labels[indices]).long()
                ids = dataset_ids[indices]
                if args.feed_mode == 'local-memory' and args.local_enqueue == 'before':
                    memories[w].add(embeddings.detach(), labels, ids)
                memory = memories[w].get(step) if use_memory else None
                if memory is not None:
                    memory_used.append(len(memory[1]))
                if args.loss == 'contrastive':
                    loss = contrastive_loss(embeddings, labels, embeddings, labels, args.contrastive_margin)
                    if memory is not None:
                        loss = loss + args.memory_weight * contrastive_loss(
                            embeddings, labels, memory[0], memory[1], args.contrastive_margin)
                else:
                    loss = batch_hard_loss(embeddings, labels, args.margin, memory, ids)
                worker_losses.append(loss)
                batches.append((indices, embeddings.detach(), labels, ids))
            # DDP averages the workers' gradients: the gradient of the workers' mean loss.
            loss = worker_losses[0] if W == 1 else torch.stack(worker_losses).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if saved_bn is not None:  # after the backward pass, which needs the buffers as they were
                with torch.no_grad():
                    for buffer, saved in zip(bn_buffers(model), saved_bn):
                        buffer.copy_(saved)
            if args.feed_mode == 'local-memory' and args.local_enqueue == 'after':
                for w, (indices, embeddings, labels, ids) in enumerate(batches):
                    memories[w].add(embeddings, labels, ids)
            compute_seconds.append(time.monotonic() - compute_started)
            losses.append(float(loss))
            fed_per_step.append(fed_now)
            if fed_now and first_fed_step is None:
                first_fed_step = step

            for w, (indices, embeddings, labels, ids) in enumerate(batches):
                publisher.publish(step, ['s%d' % i for i in indices], ['id%d' % train.labels[i] for i in indices],
                                  embeddings.numpy(), worker_id=workers[w])
            step_seconds.append(time.monotonic() - step_started)
            if args.eval_every and (step + 1) % args.eval_every == 0:
                curve.append([step + 1, recall_at_1(model, held_out)])
        publisher.close()
    finally:
        subscriber.close()
        if neighbors is not None:
            neighbors.close()
    loop_seconds = time.monotonic() - loop_started

    window = max(1, min(20, args.steps // 5))
    summary = {
        'job': args.job, 'worker': args.worker, 'seed': args.seed, 'steps': args.steps,
        'feed': args.feed_mode == 'triplets', 'feed_mode': args.feed_mode, 'loss': args.loss,
        'workers': W, 'split': args.split if W > 1 else None, 'dataset': args.dataset,
        'image_size': int(train.images.shape[-1]),
        'identities_per_batch': args.identities_per_batch, 'images_per_identity': args.images_per_identity,
        'batch_size': args.identities_per_batch * args.images_per_identity,
        'published': publisher.published,
        'mined_partition': subscriber.partition if W == 1 else None, 'mined_partitions': subscriber.partitions,
        'mined_consumed': counts['consumed'], 'mined_stale': counts['stale'],
        'fed_samples': int(sum(fed_per_step)), 'steps_with_fed': int(sum(1 for f in fed_per_step if f)),
        'first_fed_step': first_fed_step,
        'memory_samples_received': counts['memory_samples'], 'first_memory_step': counts['first_memory_step'],
        'memory_used_mean': float(np.mean(memory_used)) if memory_used else None,
        'memory_used_min': int(min(memory_used)) if memory_used else None,
        # Worker-steps whose loss found no fresh memory entry (the miner trailed by more than --max-staleness).
        'memory_empty_steps': sum(1 for n in memory_used if n == 0),
        'memory_steps': len(memory_used),
        'memory_size': args.memory_size if args.feed_mode in MEMORY_MODES else None,
        'memory_start': args.memory_start if args.feed_mode in MEMORY_MODES else None,
        'memory_negatives': job_config['memory_negatives'] if job_config else None,
        'memory_positives': job_config['memory_positives'] if job_config else None,
        'sampler': args.sampler,
        'random_share': args.random_share if args.sampler != 'random' else None,
        'group_size': args.group_size if args.sampler != 'random' else None,
        'neighbor_records': counts['neighbor_records'],
        'identities_with_neighbors': len(samplers[0].seeds) if args.sampler != 'random' else None,
        # How often hardmine's neighbours that make a group are true family members (the oracle's groups: 1.0).
        'neighbor_family_precision': family_precision(samplers, train, args.group_size - 1)
        if args.sampler == 'neighbors' and hasattr(train, 'families') else None,
        'local_enqueue': args.local_enqueue if args.feed_mode == 'local-memory' else None,
        'loss_first': float(np.mean(losses[:window])), 'loss_last': float(np.mean(losses[-window:])),
        'loss_window': window,
        'recall_at_1_init': recall_init, 'recall_at_1': recall_at_1(model, held_out), 'recall_curve': curve,
        # Per step: receive, sample, forward, loss, backward, update, publish (not the one wait for the
        # first mined batch, not the waits of --max-lead, not --eval-every); compute: forward to update and the memory's upkeep only.
        'seconds_per_step': round(float(np.mean(step_seconds)), 5) if step_seconds else None,
        'seconds_per_step_compute': round(float(np.mean(compute_seconds)), 5) if compute_seconds else None,
        'seconds_first_wait': round(waited, 2), 'seconds_loop': round(loop_seconds, 1),
        # --max-lead: the steps that waited for the miner, and how long they waited in all.
        'max_lead': args.max_lead, 'lead_waits': counts['lead_waits'], 'seconds_lead_wait': round(lead_waited, 2),
        'seconds': round(time.monotonic() - started, 1),
    }
    print('SUMMARY', json.dumps(summary, sort_keys=True), flush=True)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Exception:  # pylint: disable=broad-except
        # Torch 1.13 can hang forever at interpreter exit after an error raised in backward():
        # report the error and leave at once, so that a failed run cannot stall evaluate.py.
        import traceback
        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
