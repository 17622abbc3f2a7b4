"""A procedurally generated identity dataset: nothing is downloaded.

Identities come in *families*: each family has a base pattern, each identity adds a smaller
pattern of its own, so identities of one family look alike (the hard negatives) while a random
P x K batch rarely holds two of them. An image is its identity's pattern shifted by up to two
pixels, with random contrast, an occluding blob and pixel noise. Training and held-out
identities belong to different families, so Recall@1 on the held-out split measures an
embedding of identities never seen in training.
"""
import numpy as np

SIZE = 16


def _smooth_pattern(rng, blobs):
    """A sum of random Gaussian blobs on a SIZE x SIZE grid, zero mean, unit norm."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    img = np.zeros((SIZE, SIZE), np.float32)
    for _ in range(blobs):
        cy, cx = rng.uniform(0, SIZE, 2)
        sigma = rng.uniform(1.0, 3.0)
        img += rng.normal() * np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * sigma ** 2))
    img -= img.mean()
    return img / (np.linalg.norm(img) + 1e-6)


class IdentityDataset:
    """images[i] (float32, 1 x SIZE x SIZE) with labels[i] (identity number), all in memory."""

    def __init__(self, families, identities_per_family, images_per_identity, seed, identity_strength=0.6,
                 noise=0.05):
        rng = np.random.default_rng(seed)
        n = families * identities_per_family
        self.identities = n
        self.images_per_identity = images_per_identity
        # families[i]: the identities of identity i's family (its own included) -- the true hard
        # negatives, for the oracle sampler of train.py.
        self.families = [list(range(i - i % identities_per_family, i - i % identities_per_family
                                    + identities_per_family)) for i in range(n)]
        self.images = np.empty((n * images_per_identity, 1, SIZE, SIZE), np.float32)
        self.labels = np.repeat(np.arange(n), images_per_identity)
        index = 0
        for f in range(families):
            base = _smooth_pattern(rng, 6)
            for _ in range(identities_per_family):
                pattern = base + identity_strength * _smooth_pattern(rng, 4)
                for _ in range(images_per_identity):
                    img = np.roll(pattern, tuple(rng.integers(-2, 3, 2)), axis=(0, 1))
                    img = img * rng.uniform(0.7, 1.3)
                    img = img + 0.5 * rng.uniform() * _occluder(rng)
                    img = img + rng.normal(0, noise, img.shape)
                    self.images[index, 0] = img * 4.0  # about unit pixel scale
                    index += 1

    def __len__(self):
        return len(self.labels)


def _occluder(rng):
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    cy, cx = rng.uniform(0, SIZE, 2)
    return (((ys - cy) ** 2 + (xs - cx) ** 2) < rng.uniform(4, 16)).astype(np.float32) * rng.choice([-0.3, 0.3])


def splits(seed=0):
    """The training split (64 families x 8 identities x 8 images) and the held-out one (16 x 8 x 8)."""
    train = IdentityDataset(64, 8, 8, seed)
    held_out = IdentityDataset(16, 8, 8, seed + 1_000_003)
    return train, held_out
