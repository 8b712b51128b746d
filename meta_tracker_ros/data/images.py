# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Image material for the generator: natural images, procedural textures and shape masks.

Natural images come from scikit-image's skimage.data (only the ones bundled with the wheel,
no download) and matplotlib's sample grace_hopper.jpg. They are loaded once per process.
Sequences of a photo split draw from photos.py's pool instead (natural_patch's pick and load).
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import cv2
import numpy as np

# skimage.data images that ship inside the wheel (others download and fail offline).
SKIMAGE_IMAGES = (
    'astronaut', 'camera', 'cat', 'chelsea', 'coffee', 'rocket', 'hubble_deep_field',
    'immunohistochemistry', 'retina', 'colorwheel', 'logo', 'moon', 'brick', 'grass', 'gravel',
    'coins', 'clock', 'stereo_motorcycle', 'page', 'text')
NATURAL_IMAGES = SKIMAGE_IMAGES + ('grace_hopper',)
# Images whose content suits a background (large scenes and textures).
BACKGROUND_IMAGES = (
    'astronaut', 'camera', 'cat', 'chelsea', 'coffee', 'rocket', 'hubble_deep_field',
    'immunohistochemistry', 'retina', 'moon', 'brick', 'grass', 'gravel', 'coins', 'clock',
    'stereo_motorcycle', 'grace_hopper', 'page', 'text')
SHAPE_KINDS = ('ellipse', 'polygon', 'blob', 'rectangle', 'silhouette')
TEXTURE_KINDS = ('noise', 'gradient', 'stripes', 'checker')


@functools.lru_cache(maxsize=None)
def natural_image(name: str) -> np.ndarray:
    """RGB uint8 (H, W, 3) image by name (read-only array, cached per process)."""
    if name == 'grace_hopper':
        import matplotlib.cbook
        import matplotlib.image
        with matplotlib.cbook.get_sample_data('grace_hopper.jpg') as f:
            img = matplotlib.image.imread(f, format='jpg')
    elif name in SKIMAGE_IMAGES:
        import skimage.data
        img = getattr(skimage.data, name)()
        if isinstance(img, tuple):  # stereo_motorcycle: (left, right, disparity)
            img = img[0]
    else:
        raise KeyError(f'unknown natural image {name!r}; known: {", ".join(NATURAL_IMAGES)}')
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = (np.clip(img, 0, 1) * 255).astype(np.uint8) if img.dtype.kind == 'f' \
            else img.astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    img = np.ascontiguousarray(img[:, :, :3])
    img.setflags(write=False)
    return img


@functools.lru_cache(maxsize=None)
def _horse_silhouette() -> np.ndarray:
    import skimage.data
    m = ~np.asarray(skimage.data.horse(), dtype=bool)  # the wheel's horse is False on True
    ys, xs = np.nonzero(m)
    m = m[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    out = m.astype(np.uint8) * 255
    out.setflags(write=False)
    return out


def tint(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Colour a grey image, or jitter a colour one half of the time, by per-channel gains."""
    grey = bool(np.all(img[::16, ::16, 0] == img[::16, ::16, 1]))
    if not grey and rng.random() < 0.5:
        return img
    gain = np.exp(rng.uniform(-1, 1, 3) * (0.5 if grey else 0.12))
    return cv2.multiply(np.ascontiguousarray(img), (*gain.tolist(), 0.0))


def _has_texture(crop: np.ndarray) -> bool:
    """
    Tell whether a crop carries texture.

    Enough fine detail (mean absolute high-pass >= 2.5 grey levels) or strong contrast,
    and a mean grey level away from black and white.
    """
    g = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = float(np.abs(g - cv2.GaussianBlur(g, (0, 0), 2)).mean())
    return (detail >= 2.5 or float(g.std()) >= 40) and 35 <= float(g.mean()) <= 225


Picker = Callable[[np.random.Generator], str]
Loader = Callable[[str], np.ndarray]


def natural_patch(rng: np.random.Generator, width: int, height: int,
                  name: str | None = None, zoom: tuple[float, float] = (0.5, 1.6),
                  tries: int = 8, pick: Picker | None = None, load: Loader = natural_image
                  ) -> tuple[np.ndarray, str]:
    """
    Random crop of a natural image resized to (height, width, 3) uint8, and its name.

    zoom is the range of output pixels per source pixel (values below 1 shrink the source).
    Crops without texture or too dark or bright (smooth retina, clock face, black borders)
    are redrawn up to `tries` times, so objects cut from them carry texture. The image is
    drawn by pick(rng) and read by load(name) when given (the photo pool of one split),
    else drawn uniformly from NATURAL_IMAGES.
    """
    fixed = name
    for _ in range(tries):
        if fixed is None:
            name = pick(rng) if pick is not None \
                else NATURAL_IMAGES[int(rng.integers(len(NATURAL_IMAGES)))]
        src = load(name)
        sh, sw = src.shape[:2]
        z = max(float(rng.uniform(*zoom)), width / sw, height / sh)  # the crop must fit
        cw = min(sw, max(2, int(math.ceil(width / z))))
        ch = min(sh, max(2, int(math.ceil(height / z))))
        x0 = int(rng.integers(0, sw - cw + 1))
        y0 = int(rng.integers(0, sh - ch + 1))
        crop = src[y0:y0 + ch, x0:x0 + cw]
        if _has_texture(crop):
            break
    interp = cv2.INTER_AREA if cw > width else cv2.INTER_LINEAR
    out = cv2.resize(crop, (width, height), interpolation=interp)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    return np.ascontiguousarray(tint(rng, out)), name


def _palette(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, (n, 3)).astype(np.float64)


def _value_noise(rng: np.random.Generator, width: int, height: int, octaves: int = 4
                 ) -> np.ndarray:
    """Multi-octave value noise in [0, 1], float32 (height, width)."""
    acc = np.zeros((height, width), np.float32)
    total = 0.0
    cells = float(rng.uniform(2, 6))
    for o in range(octaves):
        gw = max(2, int(cells * 2 ** o * width / max(width, height)))
        gh = max(2, int(cells * 2 ** o * height / max(width, height)))
        grid = rng.random((gh, gw), dtype=np.float32)
        amp = 0.55 ** o
        acc += amp * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
        total += amp
    acc /= total
    lo, hi = float(acc.min()), float(acc.max())
    return (acc - lo) / max(hi - lo, 1e-6)


def procedural_texture(rng: np.random.Generator, width: int, height: int,
                       kind: str | None = None) -> np.ndarray:
    """Procedural RGB uint8 texture (noise, gradient, stripes, checker) of the given size."""
    if kind is None:
        kind = TEXTURE_KINDS[int(rng.integers(len(TEXTURE_KINDS)))]
    theta = float(rng.uniform(0, math.pi))
    yy = np.arange(height, dtype=np.float32)[:, None]
    xx = np.arange(width, dtype=np.float32)[None, :]
    u = xx * math.cos(theta) + yy * math.sin(theta)
    if kind == 'noise':
        t = _value_noise(rng, width, height)
    elif kind == 'gradient':
        t = (u - u.min()) / max(float(u.max() - u.min()), 1e-6)
        t = np.clip(t + 0.25 * (_value_noise(rng, width, height, 3) - 0.5), 0, 1)
    elif kind == 'stripes':
        period = float(rng.uniform(6, 40))
        t = 0.5 + 0.5 * np.sin(2 * math.pi * u / period)
        t = np.clip(t + 0.2 * (_value_noise(rng, width, height, 2) - 0.5), 0, 1)
    elif kind == 'checker':
        period = float(rng.uniform(8, 48))
        v = -xx * math.sin(theta) + yy * math.cos(theta)
        t = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
        t = np.clip(0.15 + 0.7 * t + 0.3 * (_value_noise(rng, width, height, 3) - 0.5), 0, 1)
    else:
        raise ValueError(f'unknown texture kind {kind!r}; known: {TEXTURE_KINDS}')
    # map t in [0, 1] through a random three-colour palette with a lookup table
    pal = _palette(rng, 3)
    x = np.linspace(0, 1, 256)[:, None]
    lut = np.where(x < 0.5, pal[0] + (pal[1] - pal[0]) * (2 * x),
                   pal[1] + (pal[2] - pal[1]) * (2 * x - 1))
    lut = np.clip(lut + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)
    t8 = np.clip(t * 255 + 0.5, 0, 255).astype(np.uint8)
    return cv2.LUT(cv2.cvtColor(t8, cv2.COLOR_GRAY2RGB), lut)


def texture(rng: np.random.Generator, width: int, height: int, natural_prob: float = 0.8,
            name: str | None = None, pick: Picker | None = None, load: Loader = natural_image
            ) -> tuple[np.ndarray, str]:
    """
    Draw a texture: a natural patch or a procedural texture.

    A natural patch with probability natural_prob (always when name is given); returns
    (RGB uint8, source name). pick and load choose and read the image (see natural_patch).
    """
    if name is not None or rng.random() < natural_prob:
        return natural_patch(rng, width, height, name, pick=pick, load=load)
    kind = TEXTURE_KINDS[int(rng.integers(len(TEXTURE_KINDS)))]
    return procedural_texture(rng, width, height, kind), f'procedural:{kind}'


def shape_mask(rng: np.random.Generator, width: int, height: int, kind: str | None = None
               ) -> tuple[np.ndarray, str]:
    """Binary shape (uint8 0/255, (height, width)) filling the box edge to edge, and its kind."""
    if kind is None:
        kind = SHAPE_KINDS[int(rng.choice(len(SHAPE_KINDS), p=[0.2, 0.25, 0.3, 0.15, 0.1]))]
    ss = 4  # draw at 4x with integer coordinates, then area-resample and threshold
    W, H = width * ss, height * ss
    m = np.zeros((H, W), np.uint8)
    cx, cy = (W - 1) / 2.0, (H - 1) / 2.0
    if kind == 'ellipse':
        cv2.ellipse(m, (int(cx), int(cy)), (int(W / 2 - 1), int(H / 2 - 1)), 0, 0, 360, 255, -1)
    elif kind in ('polygon', 'blob'):
        n = int(rng.integers(5, 12)) if kind == 'polygon' else 64
        ang = np.sort(rng.uniform(0, 2 * math.pi, n)) if kind == 'polygon' \
            else np.linspace(0, 2 * math.pi, n, endpoint=False)
        if kind == 'polygon':
            r = rng.uniform(0.45, 1.0, n)
        else:  # smooth radius from a few Fourier terms
            r = np.ones(n)
            for k in range(2, 6):
                r += rng.normal(0, 0.12 / (k - 1) ** 0.5) * np.cos(k * ang + rng.uniform(0, 7))
            r = np.clip(r, 0.35, None)
        pts = np.stack([np.cos(ang) * r, np.sin(ang) * r], 1)
        pts -= pts.min(0)
        pts /= np.maximum(pts.max(0), 1e-6)
        pts = pts * [W - 1, H - 1]
        cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 255)
    elif kind == 'rectangle':
        rad = int(min(W, H) * rng.uniform(0.0, 0.35))
        cv2.rectangle(m, (rad, 0), (W - 1 - rad, H - 1), 255, -1)
        cv2.rectangle(m, (0, rad), (W - 1, H - 1 - rad), 255, -1)
        for x, y in ((rad, rad), (W - 1 - rad, rad), (rad, H - 1 - rad),
                     (W - 1 - rad, H - 1 - rad)):
            cv2.circle(m, (x, y), rad, 255, -1)
    elif kind == 'silhouette':
        sil = _horse_silhouette()
        if rng.random() < 0.5:
            sil = sil[:, ::-1]
        m = cv2.resize(np.ascontiguousarray(sil), (W, H), interpolation=cv2.INTER_AREA)
    else:
        raise ValueError(f'unknown shape kind {kind!r}; known: {SHAPE_KINDS}')
    small = cv2.resize(m, (width, height), interpolation=cv2.INTER_AREA)
    out = np.where(small >= 128, 255, 0).astype(np.uint8)
    if not out.any():
        out[height // 2, width // 2] = 255
    return out, kind
