# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Episode samplers for MLT's two training stages (paper section 3.2).

(x, z) pairs for the matching network and (x, z_reg) episodes for the meta-learner, with the
augmentations the paper lists.

A sample is a dict of numpy arrays; the training loop stacks them into batches.
Images are (3, H, W) float32 RGB in [0, 255]; offsets are the target centre (dx, dy) relative
to the search image centre in search pixels, from which the label maps are drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Sequence

import cv2
from meta_tracker_ros.core.ops.crops import context_size, crop_square, mean_color
import numpy as np
from training.datasets import Video


@dataclass(frozen=True)
class Augment:
    """
    Augmentation strengths (section 3.2.2: flip, noise, Gaussian blur, translation).

    flip: probability of a horizontal flip; noise: maximum Gaussian noise std (grey levels);
    blur: probability of a Gaussian blur with sigma in [0.5, 1.5]; translate: maximum shift of
    the target from the search centre (search pixels); scale: maximum log-scale jitter of the
    search region (not in the paper's list; SiamFC-style training uses it).
    Beyond the paper, for a recipe that must not overfit synthetic appearances (all 0 = off):
    color: strength of a brightness / contrast / saturation jitter (each factor drawn in
    [1 - color, 1 + color]); gray: probability of a greyscale search crop; aspect: maximum
    log-aspect jitter of the search region (the target is stretched, as real targets turn).
    """

    flip: float = 0.5
    noise: float = 8.0
    blur: float = 0.3
    translate: float = 24.0
    scale: float = 0.05
    color: float = 0.0
    gray: float = 0.0
    aspect: float = 0.0


def _color_jitter(img: np.ndarray, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast and saturation factors around 1; greyscale with aug.gray."""
    if aug.color > 0:
        b, c, s = rng.uniform(1.0 - aug.color, 1.0 + aug.color, 3)
        grey = img @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        img = grey[..., None] + float(s) * (img - grey[..., None])
        img = float(c) * (img - float(grey.mean())) + float(grey.mean())
        img = img * float(b)
    if aug.gray > 0 and rng.random() < aug.gray:
        grey = img @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        img = np.repeat(grey[..., None], 3, axis=2)
    return img


def _photometric(crop: np.ndarray, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    img = crop.astype(np.float32)
    if aug.color > 0 or aug.gray > 0:
        img = _color_jitter(img, aug, rng)
    if aug.blur > 0 and rng.random() < aug.blur:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.5, 1.5)))
    if aug.noise > 0:
        sigma = float(rng.uniform(0.0, aug.noise))
        if sigma > 0:
            # OpenCV's generator is 3x faster than numpy's; it is seeded from rng, so the
            # noise stays determined by the sampler's seed.
            cv2.setRNGSeed(int(rng.integers(2 ** 31)))
            noise = np.empty_like(img)
            cv2.randn(noise, 0.0, sigma)
            img += noise
    return np.clip(img, 0.0, 255.0)


def _chw(img: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32)


class CropMaker:
    """Exemplar and search crops of a video's frames, as the tracker makes them."""

    def __init__(self, exemplar_size: int = 127, search_size: int = 255,
                 context: float = 0.5) -> None:
        self.exemplar_size = exemplar_size
        self.search_size = search_size
        self.context = context

    def exemplar(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """(3, 127, 127) exemplar centred on box (x, y, w, h)."""
        x, y, w, h = (float(v) for v in box)
        side = context_size(w, h, self.context)
        return _chw(crop_square(image, x + w / 2, y + h / 2, side, self.exemplar_size))

    def exemplar_target_size(self, box: np.ndarray) -> np.ndarray:
        """(2,) the target's (w, h) in exemplar pixels, for the template weights."""
        w, h = float(box[2]), float(box[3])
        scale = self.exemplar_size / context_size(w, h, self.context)
        return np.array([w * scale, h * scale], dtype=np.float32)

    def search(self, image: np.ndarray, box: np.ndarray, aug: Augment,
               rng: np.random.Generator, photometric: bool,
               flip: bool) -> tuple[np.ndarray, np.ndarray]:
        """
        (3, 255, 255) search crop with the target near its centre and the offset (dx, dy).

        The region has SiamFC's size (exemplar context side * 255 / 127), jittered in scale,
        and is shifted so the target lands up to aug.translate pixels from the centre.
        """
        crop, off, _ = self.search_box(image, box, aug, rng, photometric, flip)
        return crop, off

    def search_box(self, image: np.ndarray, box: np.ndarray, aug: Augment,
                   rng: np.random.Generator, photometric: bool,
                   flip: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return search(...) and the target's (w, h) in the crop's pixels."""
        x, y, w, h = (float(v) for v in box)
        side = context_size(w, h, self.context) * self.search_size / self.exemplar_size
        side *= math.exp(rng.uniform(-aug.scale, aug.scale))
        off = rng.uniform(-aug.translate, aug.translate, size=2) if aug.translate > 0 \
            else np.zeros(2)
        px = side / self.search_size
        wh = np.array([w, h]) / px
        crop = crop_square(image, x + w / 2 - off[0] * px, y + h / 2 - off[1] * px, side,
                           self.search_size, mean_color(image))
        if aug.aspect > 0:
            a = float(rng.uniform(-aug.aspect, aug.aspect))
            crop = _stretch(crop, a)
            stretch = np.array([math.exp(a / 2.0), math.exp(-a / 2.0)])
            off, wh = off * stretch, wh * stretch
        if photometric:
            crop = _photometric(crop, aug, rng)
        if flip:
            crop = crop[:, ::-1]
            off = np.array([-off[0], off[1]])
        return _chw(crop), off.astype(np.float32), wh.astype(np.float32)


def _stretch(crop: np.ndarray, log_aspect: float) -> np.ndarray:
    """
    Stretch a square crop about its centre: x by exp(a / 2), y by exp(-a / 2).

    The centre stays where it was; an offset (dx, dy) from it becomes (dx sx, dy sy).
    """
    n = crop.shape[0]
    sx, sy = math.exp(log_aspect / 2.0), math.exp(-log_aspect / 2.0)
    c = (n - 1) / 2.0
    m = np.array([[sx, 0.0, c - sx * c], [0.0, sy, c - sy * c]], dtype=np.float64)
    return cv2.warpAffine(crop, m, (n, n), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _visible_frames(video: Video) -> np.ndarray:
    return np.flatnonzero(video.usable())


def sample_pair(videos: Sequence[Video], rng: np.random.Generator,
                max_gap: int) -> tuple[Video, int, int]:
    """Draw a video and frames i != j with the target visible, at most max_gap apart."""
    video = videos[int(rng.integers(len(videos)))]
    idx = _visible_frames(video)
    i = int(rng.choice(idx))
    near = idx[(np.abs(idx - i) <= max_gap) & (idx != i)]
    return video, i, int(rng.choice(near)) if len(near) else i


class PairSampler:
    """Stage 1: an (x, z) pair from one object trajectory, at most max_gap frames apart."""

    def __init__(self, videos: Sequence[Video], crops: CropMaker, aug: Augment,
                 max_gap: int = 100) -> None:
        self.videos = [v for v in videos if len(_visible_frames(v)) >= 2]
        if not self.videos:
            raise ValueError('no video has two frames with a visible target')
        self.crops, self.aug, self.max_gap = crops, aug, max_gap

    def sample(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """
        Sample an exemplar (3, 127, 127), a search (1, 3, 255, 255) and its offset (1, 2).

        'exemplar_wh' (2,) is the target's size in the exemplar (for the template weights).
        """
        video, i, j = sample_pair(self.videos, rng, self.max_gap)
        flip = bool(rng.random() < self.aug.flip)
        ex = self.crops.exemplar(video.frame(i), video.boxes[i])
        if flip:
            ex = np.ascontiguousarray(ex[:, :, ::-1])
        z, off = self.crops.search(video.frame(j), video.boxes[j], self.aug, rng,
                                   photometric=True, flip=flip)
        return {'exemplar': ex, 'search': z[None], 'offset': off[None],
                'exemplar_wh': self.crops.exemplar_target_size(video.boxes[i])}


class EpisodeSampler:
    """
    Stage 2: an anchor x and M' context patches z_reg from the same trajectory (3.2.2).

    With support_selection 'random' the first `support` of the M' patches form z_s (M of them,
    at random because the M' frames are drawn at random); 'min_entropy' reorders them
    (training.objectives.support_first). Augmentation is applied to every context patch
    independently, as the paper applies it when sampling z_i.
    """

    def __init__(self, videos: Sequence[Video], crops: CropMaker, aug: Augment,
                 contexts: int = 16, max_gap: int = 100) -> None:
        self.videos = [v for v in videos if len(_visible_frames(v)) >= 2]
        if not self.videos:
            raise ValueError('no video has two frames with a visible target')
        self.crops, self.aug = crops, aug
        self.contexts, self.max_gap = contexts, max_gap

    def sample(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """
        Sample an exemplar (3, 127, 127), M' searches (M', 3, 255, 255), offsets (M', 2).

        'exemplar_wh' (2,) is the target's size in the exemplar (for the template weights).
        """
        video = self.videos[int(rng.integers(len(self.videos)))]
        idx = _visible_frames(video)
        i = int(rng.choice(idx))
        near = idx[(np.abs(idx - i) <= self.max_gap) & (idx != i)]
        if len(near) == 0:
            near = np.array([i])
        picks = rng.choice(near, size=self.contexts, replace=len(near) < self.contexts)
        ex = self.crops.exemplar(video.frame(i), video.boxes[i])
        zs, offs = [], []
        for j in picks:
            z, off = self.crops.search(video.frame(int(j)), video.boxes[int(j)], self.aug, rng,
                                       photometric=True, flip=bool(rng.random() < self.aug.flip))
            zs.append(z)
            offs.append(off)
        return {'exemplar': ex, 'search': np.stack(zs), 'offset': np.stack(offs),
                'exemplar_wh': self.crops.exemplar_target_size(video.boxes[i])}
