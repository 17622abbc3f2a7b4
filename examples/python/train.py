#!/usr/bin/python3
"""A small PyTorch metric-learning training loop fed by hardmine.

Every step it embeds a P x K batch of a generated identity dataset (data.py) with a tiny CNN,
trains on the batch-hard triplet loss, and publishes the batch's embeddings to hardmine
(EmbeddingBatch, key = job id, Confluent wire format through the registry). It reads the
batches hardmine mined from its own input (key "job/worker") as they arrive, and puts the
hardest mined triplets (anchor, positive, negative, by sample id = dataset index) into its next
batches, in place of random identities: the batch size stays the same with or without feeding.

    /usr/bin/python3 examples/python/train.py --bootstrap 127.0.0.1:9092 --registry http://127.0.0.1:8081

The last line of output is "SUMMARY {json}": steps, losses, mined batches consumed, mined
samples trained on, Recall@1 on held-out identities. Needs Debian's python3-torch,
python3-confluent-kafka, python3-avro and python3-requests (see requirements.txt).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from data import splits
from hardmine_client import EmbeddingPublisher, MinedBatchSubscriber

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.join(HERE, '..', '..', 'schemas', 'EmbeddingBatch.avsc')


class EmbeddingNet(nn.Module):
    """16x16 grey image -> L2-normalised embedding."""

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
        x = F.relu(self.fc1(x.flatten(1)))
        return F.normalize(self.neck(self.fc2(x)), dim=1)


def distances(e):
    """Euclidean distances of L2-normalised rows, with a gradient that stays finite at 0."""
    return (2 - 2 * e @ e.t()).clamp_min(1e-12).sqrt()


def batch_hard_loss(e, labels, margin):
    """Mean over anchors with a positive and a negative of max(0, hardest d_ap - hardest d_an + margin)."""
    d = distances(e)
    same = labels[:, None] == labels[None, :]
    pos = same & ~torch.eye(len(labels), dtype=torch.bool)
    neg = ~same
    valid = pos.any(1) & neg.any(1)
    hardest_pos = d.masked_fill(~pos, 0).max(1).values
    hardest_neg = d.masked_fill(~neg, float('inf')).min(1).values
    return F.relu(hardest_pos - hardest_neg + margin)[valid].mean()


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
    """P x K batches of dataset indices; mined triplets fed in take the place of random identities."""

    def __init__(self, labels, identities, p, k, rng):
        self.by_identity = [np.flatnonzero(labels == i) for i in range(identities)]
        self.p, self.k, self.rng = p, k, rng

    def batch(self, fed):
        """Random identities first, then the fed triplets' samples as (a, p, n) triples at the end."""
        fed_ids = [i for t in fed for i in t]
        taken = set(fed_ids)
        identities = self.rng.choice(len(self.by_identity), (self.p * self.k - len(fed_ids)) // self.k, replace=False)
        random_part = []
        for identity in identities:
            free = [i for i in self.by_identity[identity] if i not in taken]
            chosen = self.rng.choice(free, min(self.k, len(free)), replace=False)
            random_part.extend(int(i) for i in chosen)
        return random_part + fed_ids


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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--bootstrap', default='127.0.0.1:9092', help='Kafka bootstrap servers (default %(default)s)')
    ap.add_argument('--registry', default='http://127.0.0.1:8081', help='schema registry URL (default %(default)s)')
    ap.add_argument('--job', default='pytorch-example', help='job id (default %(default)s)')
    ap.add_argument('--worker', default='worker-0', help='worker id (default %(default)s)')
    ap.add_argument('--steps', type=int, default=600, help='training steps (default %(default)s)')
    ap.add_argument('--seed', type=int, default=0, help='seed of the model and of the sampler (default %(default)s)')
    ap.add_argument('--data-seed', type=int, default=0, help='seed of the generated dataset (default %(default)s)')
    ap.add_argument('--identities-per-batch', '-P', type=int, default=16, help='P (default %(default)s)')
    ap.add_argument('--images-per-identity', '-K', type=int, default=4, help='K (default %(default)s)')
    ap.add_argument('--feed', type=int, default=8, help='mined triplets per batch at most (default %(default)s)')
    ap.add_argument('--no-feed', action='store_true', help='publish and read mined batches, but never train on them')
    ap.add_argument('--max-staleness', type=int, default=50,
                    help='ignore triplets mined from batches more than this many steps old (default %(default)s)')
    ap.add_argument('--margin', type=float, default=0.2, help='triplet margin (default %(default)s)')
    ap.add_argument('--lr', type=float, default=1e-3, help='Adam learning rate (default %(default)s)')
    ap.add_argument('--dim', type=int, default=32, help='embedding dimension (default %(default)s)')
    ap.add_argument('--wait-first-mined', type=float, default=60,
                    help='before step 1, wait this many seconds at most for the first mined batch (default %(default)s)')
    ap.add_argument('--max-in-flight', type=int, default=8, help='unacknowledged batches before publish waits')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (default %(default)s)')
    ap.add_argument('--eval-every', type=int, default=0, help='also measure held-out Recall@1 every N steps')
    ap.add_argument('--schema', default=DEFAULT_SCHEMA, help='EmbeddingBatch.avsc')
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    started = time.monotonic()
    train, held_out = splits(args.data_seed)
    model = EmbeddingNet(args.dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    sampler = Sampler(train.labels, train.identities, args.identities_per_batch, args.images_per_identity,
                      np.random.default_rng(args.seed))
    feed = Feed(args.feed, args.max_staleness)
    recall_init = recall_at_1(model, held_out)

    subscriber = MinedBatchSubscriber(args.bootstrap, args.registry, args.job, args.worker)
    publisher = EmbeddingPublisher(args.bootstrap, args.registry, args.schema, args.job, args.worker,
                                   max_in_flight=args.max_in_flight, model_version='example-seed%d' % args.seed)
    losses, fed_per_step, curve = [], [], []
    counts = {'consumed': 0, 'stale': 0}
    first_fed_step = None

    def receive(step, timeout):
        batches = subscriber.poll(timeout)
        for mined in batches:
            counts['consumed'] += 1
            if step - mined['step'] > args.max_staleness:
                counts['stale'] += 1
            elif not args.no_feed:
                feed.add(mined)

    try:
        for step in range(args.steps):
            receive(step, 0)
            if step == 1 and args.wait_first_mined > 0:
                # hardmine's first batch pays for its start-up (native libraries, the job's state);
                # waiting for it once keeps a short run from outrunning the miner from the start.
                deadline = time.monotonic() + args.wait_first_mined
                while counts['consumed'] == 0 and time.monotonic() < deadline:
                    receive(step, 0.1)
            fed = feed.take(step) if not args.no_feed else []
            indices = sampler.batch(fed)
            fed_per_step.append(3 * len(fed))
            if fed and first_fed_step is None:
                first_fed_step = step

            embeddings = model(torch.from_numpy(train.images[indices]))
            labels = torch.from_numpy(train.labels[indices])
            loss = batch_hard_loss(embeddings, labels, args.margin)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss))
            if args.eval_every and (step + 1) % args.eval_every == 0:
                curve.append([step + 1, recall_at_1(model, held_out)])

            publisher.publish(step, ['s%d' % i for i in indices], ['id%d' % train.labels[i] for i in indices],
                              embeddings.detach().numpy())
        publisher.close()
    finally:
        subscriber.close()

    window = max(1, min(20, args.steps // 5))
    summary = {
        'job': args.job, 'worker': args.worker, 'seed': args.seed, 'steps': args.steps, 'feed': not args.no_feed,
        'batch_size': args.identities_per_batch * args.images_per_identity,
        'published': publisher.published, 'mined_partition': subscriber.partition,
        'mined_consumed': counts['consumed'], 'mined_stale': counts['stale'],
        'fed_samples': int(sum(fed_per_step)), 'steps_with_fed': int(sum(1 for f in fed_per_step if f)),
        'first_fed_step': first_fed_step,
        'loss_first': float(np.mean(losses[:window])), 'loss_last': float(np.mean(losses[-window:])),
        'loss_window': window,
        'recall_at_1_init': recall_init, 'recall_at_1': recall_at_1(model, held_out), 'recall_curve': curve,
        'seconds': round(time.monotonic() - started, 1),
    }
    print('SUMMARY', json.dumps(summary, sort_keys=True), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
