"""Checks of glyphs.py: /usr/bin/python3 -m unittest examples/python/test_glyphs.py (skipped without the fonts)."""
import os
import sys
import unittest
from unittest import mock

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glyphs  # noqa: E402

HAVE_FONTS = all(os.path.exists(path) for _, _, path, _ in glyphs.FACES)


@unittest.skipUnless(HAVE_FONTS, 'CJK font packages not installed (see glyphs.py)')
class GlyphsTest(unittest.TestCase):

    def small(self, seed):
        return glyphs.splits(seed, train_identities=24, held_out_identities=8, cache=False)

    def test_shapes_labels_and_disjoint_splits(self):
        train, held_out = self.small(0)
        for ds, n in ((train, 24), (held_out, 8)):
            self.assertEqual(ds.images.shape, (n * 8, 1, glyphs.SIZE, glyphs.SIZE))
            self.assertEqual(ds.images.dtype, np.float32)
            self.assertEqual((ds.identities, ds.images_per_identity, len(ds)), (n, 8, n * 8))
            self.assertEqual(ds.labels.tolist(), np.repeat(np.arange(n), 8).tolist())
            self.assertEqual(len(set(ds.chars)), n)
            per_image = ds.images.reshape(len(ds), -1)
            np.testing.assert_allclose(per_image.mean(1), 0, atol=1e-4)
            np.testing.assert_allclose(per_image.std(1), 1, atol=1e-3)
            # images of one identity differ (other faces, other augmentations)
            self.assertGreater(np.abs(ds.images[0] - ds.images[1]).mean(), 0.1)
        self.assertFalse(set(train.chars) & set(held_out.chars))

    def test_deterministic_for_a_seed(self):
        a, b, c = self.small(5), self.small(5), self.small(6)
        for x, y in zip(a, b):
            self.assertEqual(x.chars, y.chars)
            np.testing.assert_array_equal(x.images, y.images)
        self.assertNotEqual(a[0].chars, c[0].chars)

    def test_missing_font_names_the_package(self):
        faces = list(glyphs.FACES)
        faces[5] = faces[5][:2] + ('/nonexistent/ukai.ttc', 0)
        with mock.patch.object(glyphs, 'FACES', faces):
            with self.assertRaisesRegex(RuntimeError, 'apt-get install -y fonts-arphic-ukai'):
                glyphs.splits(0)


if __name__ == '__main__':
    unittest.main()
