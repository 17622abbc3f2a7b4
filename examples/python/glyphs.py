"""A real identity dataset from Debian packages: CJK characters rendered in eight font faces.

An identity is a Chinese character; its images are the same character drawn by different font
designs and weights, each with a light augmentation of its own. The characters come from the
3,755 most common Chinese characters (GB 2312 level 1), kept only where every face has a real
glyph (not empty, not its .notdef box). Training and held-out characters are disjoint, so
Recall@1 on the held-out split measures an embedding of characters never seen in training.

Why glyphs: they are real images with real nuisances (the stroke shapes of Hei, Song/Ming and
Kai designs, regular and bold weights), identities are plentiful, and the hard negatives come
for free: look-alike characters (己 已 巳, 未 末, 土 士, 日 曰, 戊 戌 戍, 候 侯, 拔 拨...)
differ by a stroke while two fonts of one character may differ in every stroke. Nothing is
downloaded at run time.

Images per character (one per face, in this order):

    Noto Sans CJK SC Regular and Bold    fonts-noto-cjk       Hei (sans), two weights
    Noto Serif CJK SC Regular and Bold   fonts-noto-cjk       Song/Ming (serif), two weights
    WenQuanYi Zen Hei                    fonts-wqy-zenhei     Hei, another design
    AR PL UKai CN                        fonts-arphic-ukai    Kai (brush)
    AR PL UMing CN                       fonts-arphic-uming   Ming, light
    LXGW WenKai Regular                  fonts-lxgw-wenkai    Kai (handwriting, after Klee One)

Each glyph is rendered at 3x resolution, placed where its face puts it, with each face's
median glyph ink centred and scaled to GLYPH_EXTENT of the image (faces fill the em square
differently), then augmented: shift up to +-1.5 px, scale 0.9-1.1, rotation up to 3 degrees,
strokes thickened or thinned by a 3x3 filter at high resolution with probability 1/4 each
(not thinned where that would erase most of a light face's strokes), then area-downsampled to
SIZE x SIZE, with Gaussian noise (sigma 0.05 of full ink), and standardised per image (zero
mean, unit standard deviation).

Sizes (defaults): 16 x 16 pixels, 512 training characters x 8 images, 1024 held-out characters
x 8 images -- the image size and training identities of the generated data (data.py), so the
example's model and batches apply unchanged. At 16 x 16 light faces lose strokes, which makes
the task hard enough to measure a gain: the example's model, batch-hard on random P x K batches,
reaches held-out Recall@1 of about 0.57 after 1000 steps (seed 0), where at 32 x 32 with 2048
training characters it reached 0.955 -- too close to 1 for a difference to show. Which characters go
to which split, and every augmentation, are fixed by the seed. The rendered arrays are cached
in ~/.cache/hardmine-glyphs/<hash of the settings and font files>.npz: a first call renders
(about 20 s on one core), later calls load the cache (well under a second).

Install (Debian 12, about 130 MB to download, 250 MB installed):

    apt-get install -y python3-pil python3-numpy fonts-noto-cjk fonts-wqy-zenhei fonts-arphic-ukai fonts-arphic-uming fonts-lxgw-wenkai

Same interface as data.py: splits(seed=0) returns (train, held_out), each with images
(float32 [N, 1, SIZE, SIZE]), labels (int [N], 0..identities-1), identities,
images_per_identity, len(); plus chars (the character of each identity) and faces.
"""
import functools
import hashlib
import json
import os
import time

import numpy as np

SIZE = 16
SCALE = 3  # render at SCALE x SIZE, then area-downsample
TRAIN_IDENTITIES = 512
HELD_OUT_IDENTITIES = 1024
VERSION = 3  # bump when rendering changes, so old caches are not reused
CACHE_DIR = os.path.join(os.path.expanduser('~'), '.cache', 'hardmine-glyphs')

# (name, Debian package, font file, face index in a .ttc collection)
FACES = [
    ('Noto Sans CJK SC Regular', 'fonts-noto-cjk', '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 2),
    ('Noto Sans CJK SC Bold', 'fonts-noto-cjk', '/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc', 2),
    ('Noto Serif CJK SC Regular', 'fonts-noto-cjk', '/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc', 2),
    ('Noto Serif CJK SC Bold', 'fonts-noto-cjk', '/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc', 2),
    ('WenQuanYi Zen Hei', 'fonts-wqy-zenhei', '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', 0),
    ('AR PL UKai CN', 'fonts-arphic-ukai', '/usr/share/fonts/truetype/arphic/ukai.ttc', 0),
    ('AR PL UMing CN', 'fonts-arphic-uming', '/usr/share/fonts/truetype/arphic/uming.ttc', 0),
    ('LXGW WenKai Regular', 'fonts-lxgw-wenkai', '/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf', 0),
]
IMAGES_PER_IDENTITY = len(FACES)

SHIFT = 1.5        # pixels at SIZE, each axis
ZOOM = (0.9, 1.1)
ROTATE = 3.0       # degrees
THICKEN = 0.25     # probability of a 3x3 max filter at high resolution; as much for a min filter
THIN_KEEPS = 0.45  # ...which is skipped when it leaves less than this share of the ink
NOISE = 0.05
GLYPH_EXTENT = 0.75  # a face's median glyph's larger side, as a share of the image


def _require_fonts():
    missing = sorted({pkg for _, pkg, path, _ in FACES if not os.path.exists(path)})
    if missing:
        raise RuntimeError('glyphs.py needs the CJK font packages %s; install them with:\n'
                           '    apt-get install -y %s' % (', '.join(missing), ' '.join(missing)))
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise RuntimeError('glyphs.py needs Pillow; install it with:\n    apt-get install -y python3-pil')


def common_chars():
    """GB 2312 level 1 (rows 16-55): the 3,755 most used Chinese characters, in GB order."""
    chars = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode('gb2312'))
            except UnicodeDecodeError:
                pass
    return chars


def _face(path, index, size):
    from PIL import ImageFont
    return ImageFont.truetype(path, size, index=index)


def _covered(font, chars):
    """The chars this font draws a real glyph for: not empty, not the .notdef box."""
    notdef = font.getmask('\U0010FFFD')
    notdef = (notdef.size, bytes(notdef))
    out = set()
    for ch in chars:
        m = font.getmask(ch)
        if m.size[0] and m.size[1] and (m.size, bytes(m)) != notdef:
            out.add(ch)
    return out


@functools.lru_cache(maxsize=4)
def _chars_in_every_face(faces):
    """common_chars() that every face draws, in GB order (about 5 s, so kept for the process)."""
    pool = common_chars()
    for _, _, path, index in faces:
        covered = _covered(_face(path, index, 24), pool)
        pool = [ch for ch in pool if ch in covered]
    return pool


def _ink_boxes(font, chars, em):
    """(left, top, right, bottom) of each char's ink, relative to its pen position (anchor 'ls')."""
    from PIL import Image, ImageDraw
    boxes = []
    for ch in chars:
        img = Image.new('L', (3 * em, 3 * em), 0)
        ImageDraw.Draw(img).text((em, 2 * em), ch, font=font, fill=255, anchor='ls')
        left, top, right, bottom = img.getbbox()
        boxes.append((left - em, top - 2 * em, right - em, bottom - 2 * em))
    return np.array(boxes, np.float64)


def _placement(path, index, chars, res):
    """Font size and pen position that put this face's median glyph ink at the centre, its larger
    side GLYPH_EXTENT of the image (faces differ in how much of the em square their glyphs fill)."""
    probe = chars[::16]
    boxes = _ink_boxes(_face(path, index, 100), probe, 100)
    extent = np.median(np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]))
    size = max(4, int(round(100 * GLYPH_EXTENT * res / extent)))
    boxes = _ink_boxes(_face(path, index, size), probe, size)
    cx = np.median((boxes[:, 0] + boxes[:, 2]) / 2)
    cy = np.median((boxes[:, 1] + boxes[:, 3]) / 2)
    return size, (res / 2 - cx, res / 2 - cy)


def _render_face(face, size, chars, aug):
    """[len(chars), size, size] float32 ink in [0, 1] of FACES[face], with one augmentation row per char."""
    from PIL import Image, ImageDraw, ImageFilter
    _, _, path, index = FACES[face]
    res = size * SCALE
    font_size, pen = _placement(path, index, common_chars(), res)
    font = _face(path, index, font_size)
    out = np.empty((len(chars), size, size), np.float32)
    c = res / 2
    for i, (ch, (dx, dy, zoom, angle, thick)) in enumerate(zip(chars, aug)):
        img = Image.new('L', (res, res), 0)
        ImageDraw.Draw(img).text(pen, ch, font=font, fill=255, anchor='ls')
        # inverse affine map (output -> input): rotate and zoom about the centre, then shift
        a = np.deg2rad(angle)
        cos, sin = np.cos(a) / zoom, np.sin(a) / zoom
        ox, oy = c + dx * SCALE, c + dy * SCALE
        img = img.transform((res, res), Image.AFFINE,
                            (cos, sin, c - cos * ox - sin * oy, -sin, cos, c + sin * ox - cos * oy),
                            resample=Image.BILINEAR)
        if thick > 0:
            img = img.filter(ImageFilter.MaxFilter(3))
        elif thick < 0:
            thinner = img.filter(ImageFilter.MinFilter(3))
            # thin strokes (UMing Light) would vanish: thin only what keeps most of its ink
            if np.asarray(thinner, np.float32).sum() > THIN_KEEPS * np.asarray(img, np.float32).sum():
                img = thinner
        out[i] = np.asarray(img.resize((size, size), Image.BOX), np.float32) / 255.0
    return out


def _augmentations(rng, n):
    """n rows of (dx, dy, zoom, angle, thickness) for one face."""
    dx, dy = rng.uniform(-SHIFT, SHIFT, (2, n))
    zoom = rng.uniform(*ZOOM, n)
    angle = rng.uniform(-ROTATE, ROTATE, n)
    u = rng.uniform(size=n)
    thick = np.where(u < THICKEN, 1, np.where(u > 1 - THICKEN, -1, 0))
    return list(zip(dx, dy, zoom, angle, thick))


def _render(chars, size, rng):
    """[len(chars) * faces, 1, size, size] standardised images, identity-major like data.py."""
    augs = [_augmentations(rng, len(chars)) for _ in FACES]
    noise = rng.normal(0, NOISE, (len(chars), len(FACES), size, size)).astype(np.float32)
    ink = np.stack([_render_face(f, size, chars, aug) for f, aug in enumerate(augs)], axis=1)
    ink += noise  # [chars, faces, size, size]
    ink -= ink.mean(axis=(2, 3), keepdims=True)
    ink /= ink.std(axis=(2, 3), keepdims=True) + 1e-6
    return ink.reshape(-1, 1, size, size)


class GlyphDataset:
    """images[i] (float32, 1 x SIZE x SIZE) with labels[i] (identity number), all in memory."""

    def __init__(self, images, chars):
        self.images = images
        self.chars = list(chars)
        self.faces = [name for name, _, _, _ in FACES]
        self.identities = len(self.chars)
        self.images_per_identity = len(images) // max(1, self.identities)
        self.labels = np.repeat(np.arange(self.identities), self.images_per_identity)

    def __len__(self):
        return len(self.labels)


def _settings_key(seed, size, train_identities, held_out_identities):
    files = [(path, index, os.path.getsize(path)) for _, _, path, index in FACES]
    settings = dict(version=VERSION, seed=seed, size=size, scale=SCALE, train=train_identities,
                    held_out=held_out_identities, files=files, shift=SHIFT, zoom=ZOOM, rotate=ROTATE,
                    thicken=THICKEN, thin_keeps=THIN_KEEPS, noise=NOISE, extent=GLYPH_EXTENT)
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def splits(seed=0, size=SIZE, train_identities=TRAIN_IDENTITIES, held_out_identities=HELD_OUT_IDENTITIES,
           cache=True, verbose=False):
    """The training split (2048 characters x 8 images) and the held-out one (512 x 8), disjoint."""
    _require_fonts()
    path = os.path.join(CACHE_DIR, '%s.npz' % _settings_key(seed, size, train_identities, held_out_identities))
    if cache and os.path.exists(path):
        with np.load(path) as z:
            return (GlyphDataset(z['train_images'], str(z['train_chars'])),
                    GlyphDataset(z['held_out_images'], str(z['held_out_chars'])))

    started = time.monotonic()
    pool = _chars_in_every_face(tuple(FACES))
    if train_identities + held_out_identities > len(pool):
        raise ValueError('only %d characters have a glyph in every face, asked for %d'
                         % (len(pool), train_identities + held_out_identities))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pool))
    train_chars = ''.join(pool[i] for i in order[:train_identities])
    held_out_chars = ''.join(pool[i] for i in order[train_identities:train_identities + held_out_identities])
    train_images = _render(list(train_chars), size, np.random.default_rng([seed, 1]))
    held_out_images = _render(list(held_out_chars), size, np.random.default_rng([seed, 2]))
    if verbose:
        print('glyphs: %d characters in every face, rendered %d + %d images in %.1f s'
              % (len(pool), len(train_images), len(held_out_images), time.monotonic() - started))
    if cache:
        os.makedirs(CACHE_DIR, exist_ok=True)
        tmp = path + '.%d.tmp.npz' % os.getpid()
        np.savez(tmp, train_images=train_images, train_chars=np.array(train_chars),
                 held_out_images=held_out_images, held_out_chars=np.array(held_out_chars))
        os.replace(tmp, path)
    return GlyphDataset(train_images, train_chars), GlyphDataset(held_out_images, held_out_chars)
