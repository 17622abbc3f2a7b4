"""Checks of train.py's losses and memories and of hardmine_client's decoder, without Kafka:
/usr/bin/python3 -m unittest examples/python/test_train.py"""
import datetime
import io
import json
import os
import sys
import unittest

import avro.io
import avro.schema
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hardmine_client  # noqa: E402
import train  # noqa: E402

SCHEMAS = os.path.join(HERE, '..', '..', 'schemas')
torch.set_num_threads(1)


def xbm_contrastive_loop(inputs_col, targets_col, inputs_row, target_row, margin=0.5):
    """research-xbm's ContrastiveLoss.forward, as written there (a loop over anchors)."""
    n = inputs_col.size(0)
    sim_mat = torch.matmul(inputs_col, inputs_row.t())
    loss = []
    for i in range(n):
        pos_pair_ = torch.masked_select(sim_mat[i], targets_col[i] == target_row)
        pos_pair_ = torch.masked_select(pos_pair_, pos_pair_ < 1 - 1e-5)
        neg_pair_ = torch.masked_select(sim_mat[i], targets_col[i] != target_row)
        neg_pair = torch.masked_select(neg_pair_, neg_pair_ > margin)
        pos_loss = torch.sum(-pos_pair_ + 1)
        neg_loss = torch.sum(neg_pair) if len(neg_pair) > 0 else 0
        loss.append(pos_loss + neg_loss)
    return sum(loss) / n


def normed(n, dim=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, dim, generator=g), dim=1)


class LossTest(unittest.TestCase):

    def test_contrastive_is_xbms_loss_value_and_gradient(self):
        labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
        mem_labels = torch.tensor([0, 1, 2, 5, 5, 6, 3, 0, 1, 1])
        for row, row_labels in ((None, labels), (normed(10, seed=1), mem_labels)):
            a = normed(8).requires_grad_()
            b = a.detach().clone().requires_grad_()
            r_a = a if row is None else row
            r_b = b if row is None else row
            ours = train.contrastive_loss(a, labels, r_a, row_labels, 0.5)
            theirs = xbm_contrastive_loop(b, labels, r_b, row_labels, 0.5)
            self.assertAlmostEqual(float(ours), float(theirs), places=5)
            ours.backward()
            theirs.backward()
            self.assertTrue(torch.allclose(a.grad, b.grad, atol=1e-6))

    def test_contrastive_against_an_empty_memory_is_zero(self):
        e = normed(4)
        self.assertEqual(float(train.contrastive_loss(e, torch.arange(4), torch.zeros(0, 8),
                                                      torch.zeros(0, dtype=torch.long), 0.5)), 0.0)

    def test_batch_hard_with_an_empty_memory_is_batch_hard(self):
        e, labels = normed(8), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
        empty = (torch.zeros(0, 8), torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long))
        self.assertEqual(float(train.batch_hard_loss(e, labels, 0.2)),
                         float(train.batch_hard_loss(e, labels, 0.2, empty, torch.arange(8))))

    def test_batch_hard_takes_the_hardest_of_batch_and_memory_not_the_anchors_own_sample(self):
        # 1-d on the circle: anchor 0 at angle 0, its batch positive at 0.1, a memory negative at 0.05,
        # a memory copy of the anchor itself at 3.0 (would be the hardest positive, but is itself).
        def at(*angles):
            return torch.tensor([[np.cos(t), np.sin(t)] for t in angles], dtype=torch.float32)
        e, labels, ids = at(0.0, 0.1), torch.tensor([7, 7]), torch.tensor([10, 11])
        memory = (at(0.05, 3.0), torch.tensor([8, 7]), torch.tensor([20, 10]))
        d_ap = float(2 * np.sin(0.05))   # chord of 0.1 rad
        d_an = float(2 * np.sin(0.025))  # chord of 0.05 rad
        d_an_1 = float(2 * np.sin(0.025))  # anchor 1 (0.1) to the negative (0.05)
        d_ap_1 = float(2 * np.sin(1.45))  # anchor 1 to the memory copy of sample 10 (3.0 rad away by 2.9)
        expected = ((d_ap - d_an + 0.2) + (d_ap_1 - d_an_1 + 0.2)) / 2
        self.assertAlmostEqual(float(train.batch_hard_loss(e, labels, 0.2, memory, ids)), expected, places=5)


class MemoryTest(unittest.TestCase):

    def test_local_memory_is_a_fifo_of_the_last_size_rows(self):
        m = train.LocalMemory(5, 2)
        for start in (0, 3, 6):
            rows = torch.arange(start, start + 3, dtype=torch.float32)[:, None].repeat(1, 2)
            m.add(rows, torch.arange(start, start + 3), torch.arange(start, start + 3))
        e, labels, ids = m.get(0)
        self.assertEqual(sorted(ids.tolist()), [4, 5, 6, 7, 8])
        self.assertTrue(torch.equal(e[:, 0].long(), ids))
        self.assertTrue(torch.equal(labels, ids))

    def test_received_memory_replaces_older_evicts_oldest_steps_and_skips_stale(self):
        def s(i, step, value):
            return {'sample_id': 's%d' % i, 'label': 'id%d' % (i % 3), 'step': step,
                    'embedding': np.full(2, value, '<f4').tobytes()}
        m = train.ReceivedMemory(3, 2, max_staleness=10)
        m.add([s(1, 5, 1.0), s(2, 6, 2.0), s(3, 7, 3.0)])
        m.add([s(1, 4, 9.0)])          # older than what is held: ignored
        m.add([s(2, 8, 4.0)])          # newer: replaces
        m.add([s(4, 7, 5.0)])          # over capacity: the oldest step (sample 1, step 5) leaves
        self.assertEqual(sorted(m.entries), ['s2', 's3', 's4'])
        m.add([s(5, 7, 6.0)])          # steps 7, 7, 7, 8: the earliest arrival of step 7 (s3) leaves
        self.assertEqual(sorted(m.entries), ['s2', 's4', 's5'])
        e, labels, ids = m.get(17)     # step 7 is 10 behind 17 (kept), step 8 too
        self.assertEqual(sorted(ids.tolist()), [2, 4, 5])
        e, labels, ids = m.get(18)     # now the step-7 entries are 11 behind: left out
        self.assertEqual(ids.tolist(), [2])
        self.assertEqual(e.tolist(), [[4.0, 4.0]])
        self.assertEqual(labels.tolist(), [2])
        self.assertEqual(m.get(100)[0].shape, (0, 2))
        self.assertEqual(m.received, 7)


class ModelTest(unittest.TestCase):

    def test_images_larger_than_16_pixels(self):
        model = train.EmbeddingNet(32)
        for size in (16, 17, 28, 32):
            self.assertEqual(model(torch.randn(4, 1, size, size)).shape, (4, 32))

    def test_identity_split_deals_each_identity_to_one_worker(self):
        labels = np.repeat(np.arange(12), 4)
        order = np.random.default_rng(0).permutation(12)
        samplers = [train.Sampler(labels, 12, 2, 2, np.random.default_rng(w), np.sort(order[w::3])) for w in range(3)]
        seen = [set() for _ in range(3)]
        for _ in range(50):
            for w, sampler in enumerate(samplers):
                seen[w].update(labels[sampler.batch([])].tolist())
        self.assertEqual(sorted(i for s in seen for i in s), list(range(12)))


class GroupSamplerTest(unittest.TestCase):
    """8 families of 4 identities, 6 images each."""
    labels = np.repeat(np.arange(32), 6)
    families = [list(range(i - i % 4, i - i % 4 + 4)) for i in range(32)]

    def sampler(self, random_share, families=None, seed=0, own=None):
        return train.GroupSampler(self.labels, 32, 8, 4, np.random.default_rng(seed), own, random_share, 4, families)

    def test_the_oracle_without_random_share_gives_two_whole_families_of_k_distinct_images(self):
        s = self.sampler(0.0, self.families)
        for _ in range(30):
            batch = s.batch([])
            identities = [int(self.labels[i]) for i in batch]
            self.assertEqual(len(batch), 32)
            self.assertEqual(sorted(set(i // 4 for i in identities)).__len__(), 2)
            for k in range(8):
                part = batch[4 * k:4 * k + 4]
                self.assertEqual(len(set(int(self.labels[i]) for i in part)), 1)
                self.assertEqual(len(set(part)), 4)

    def test_half_random_means_one_group_first_then_four_other_identities(self):
        s = self.sampler(0.5, self.families, seed=1)
        for _ in range(30):
            identities = s.identities()
            self.assertEqual(len(set(identities)), 8)
            self.assertEqual(len(set(i // 4 for i in identities[:4])), 1)

    def test_without_neighbours_batches_are_random_and_hardmines_neighbours_form_the_groups(self):
        s = self.sampler(0.0, seed=2)
        self.assertEqual(len(set(s.identities())), 8)
        # hardmine says 0's neighbours are 5, 9, 13 (best first); 99 is no training identity.
        s.update(0, [5, 9, 13, 99])
        for _ in range(10):
            self.assertEqual(s.identities()[:4], [0, 5, 9, 13])

    def test_a_workers_groups_hold_its_own_identities_only(self):
        own = np.arange(0, 32, 2)
        s = self.sampler(0.0, self.families, seed=3, own=own)
        for _ in range(20):
            self.assertTrue(all(i % 2 == 0 for i in s.identities()))


class DecoderTest(unittest.TestCase):

    def roundtrip(self, schema_file, record):
        with open(os.path.join(SCHEMAS, schema_file), encoding='utf-8') as f:
            schema = json.load(f)
        parsed = avro.schema.parse(json.dumps(schema))
        out = io.BytesIO()
        out.write(b'\0\0\0\0\1')
        avro.io.DatumWriter(parsed).write(record, avro.io.BinaryEncoder(out))
        data = out.getvalue()
        expected = avro.io.DatumReader(parsed).read(avro.io.BinaryDecoder(io.BytesIO(data[5:])))
        self.assertEqual(hardmine_client.compile_reader(schema)(data, 5), expected)

    def test_mined_batch_with_memory_samples_decodes_as_avro_io_does(self):
        now = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)
        rng = np.random.default_rng(0)
        self.roundtrip('MinedBatch.avsc', {
            'job_id': 'j', 'batch_id': 'w-1', 'worker_id': 'w', 'step': 123456789012, 'strategy': 'batch-hard',
            'margin': 0.2, 'distance': 'euclidean', 'mined_at': now,
            'triplets': [{'anchor_id': 's%d' % i, 'positive_id': 's1', 'negative_id': 'é', 'anchor_label': 'id1',
                          'negative_label': 'id2', 'd_ap': 0.1 * i, 'd_an': -0.5, 'positive_step': -1,
                          'negative_step': 2 ** 40} for i in range(70)],
            'stats': dict({k: i for i, k in enumerate(['anchors', 'valid_anchors', 'hard', 'semi_hard', 'easy',
                                                       'memory_size', 'memory_identities'])},
                          **{k: 0.25 for k in ['loss_batch_hard', 'loss_semi_hard', 'loss_weighted', 'mean_d_ap',
                                               'mean_d_an', 'mining_ms']}),
            'produced_at': now,
            'memory_samples': [{'sample_id': 's%d' % i, 'label': 'id%d' % i, 'step': i,
                                'embedding': rng.random(32).astype('<f4').tobytes()} for i in range(300)]})

    def test_job_config_decodes_as_avro_io_does(self):
        with open(os.path.join(SCHEMAS, 'JobConfig.avsc'), encoding='utf-8') as f:
            fields = [x['name'] for x in json.load(f)['fields']]
        record = {name: None for name in fields}
        record.update(job_id='j', memory_negatives=16, memory_positives=4, margin=0.5, normalize=False,
                      updated_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
        self.roundtrip('JobConfig.avsc', record)


if __name__ == '__main__':
    unittest.main()
