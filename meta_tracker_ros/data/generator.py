# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Procedural tracking sequences with exact boxes, masks and visibility.

A sequence is a textured target (a shape cut from a natural-image patch) moving over a
natural background larger than the frame, with occluders, look-alike distractors, camera
pan and shake, motion blur, illumination change and sensor noise. Everything is planned at
construction from (seed, spec) (a few arrays per object); frames are rendered on demand,
one at a time and in any order, so a 2000-frame sequence costs no more memory than one frame.

Labels come from the masks, never from the pixels: the target's mask is rendered first, the
box is the extent of its amodal mask inside the frame, and blur, light and noise are applied
to the image afterwards, so they cannot move the label.

A spec with a photo_split takes every natural image (background, target, occluders, clutter)
from that split of the photo pool (photos.py) and makes some targets GrabCut cut-outs of a
photo; sources['photos'] lists every photo the sequence read. The default spec draws the
bundled images exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import functools
import hashlib
import math
from typing import Any, Iterator

import cv2
from meta_tracker_ros.data import images, photos
from meta_tracker_ros.data.motion import line_kernel, plan_target, plan_wander, smooth_noise
from meta_tracker_ros.data.spec import SequenceSpec
import numpy as np
from scipy.ndimage import gaussian_filter1d


GENERATOR_VERSION = '1.0.0'
# Below this fraction of its full mask visible, the target counts as absent (box NaN).
ABSENT_VISIBILITY = 0.05
FRAME_FLAGS = ('occlusion', 'full_occlusion', 'out_of_view', 'fast_motion', 'scale_change',
               'aspect_change', 'rotation', 'distractor', 'blur', 'illumination',
               'camera_motion', 'low_resolution')
# Flag thresholds. Fast motion, scale and aspect change and low resolution follow the
# OTB/UAV123 attribute definitions (20 px at 640x480, ratio outside [1/2, 2], < 400 px).
_PARTIAL = 0.1
_FAST_PX = 20.0
_SCALE_RATIO = 2.0
_ROTATION = math.pi / 6
_BLUR_PX = 3.0
_ILLUM_RATIO = 1.3
_CAMERA_PX = 4.0
_LOW_RES_AREA = 400.0
_MIN_BLUR = 1.5  # shorter blur kernels are skipped
# With a photo split, the share of targets cut out of a photo (photos.cutout: GrabCut, or a
# shape over the photo when it finds no object); the others are textured shapes, as without.
CUTOUT_PROB = 0.5


@dataclass(frozen=True)
class FrameLabel:
    """
    Ground truth of one frame.

    box: (4,) float64 x, y, w, h in 0-based pixels, the extent of the target's amodal mask
        inside the frame; all NaN when the target is absent.
    mask: (H, W) bool visible mask (target pixels inside the frame not hidden by occluders).
    visibility: visible pixels / pixels of the full amodal mask (also counting pixels
        outside the frame), in [0, 1].
    flags: per-frame attribute flags (FRAME_FLAGS).
    """

    index: int
    box: np.ndarray
    mask: np.ndarray
    visibility: float
    flags: dict[str, bool] = field(default_factory=dict)

    @property
    def absent(self) -> bool:
        """Tell whether the target is out of view or (almost) fully occluded."""
        return not bool(np.isfinite(self.box).all())


@dataclass(frozen=True)
class SyntheticFrame(FrameLabel):
    """
    A rendered frame: the label plus image, (H, W, 3) uint8 RGB.

    Unpacks as (image, box, mask, visibility).
    """

    image: np.ndarray = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.image, self.box, self.mask, self.visibility))


_SPRITE_PAD = 2


@dataclass
class _Layer:
    """
    A sprite with a per-frame pose in image pixels.

    rgba: (h, w, 4) uint8, the RGB texture with the binary alpha (0/255) as fourth channel,
    padded by _SPRITE_PAD pixels (RGB replicated, alpha 0), so one 4-channel warp with a
    zero border renders both and the texture never mixes with the border inside the mask;
    alpha: the same alpha channel, contiguous (label-only rendering warps just this, and
    the warp gives the same values as the fourth channel of the RGBA warp).
    center, scale, velocity: (n, 2); angle: (n,); active: (n,) bool or None (always).
    """

    kind: str
    rgba: np.ndarray
    alpha: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    angle: np.ndarray
    z: float
    active: np.ndarray | None = None
    velocity: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.velocity = _velocity(self.center)

    @classmethod
    def make(cls, kind: str, rgb: np.ndarray, alpha: np.ndarray, center: np.ndarray,
             scale: np.ndarray, angle: np.ndarray, z: float,
             active: np.ndarray | None = None) -> _Layer:
        p = _SPRITE_PAD
        rgb = cv2.copyMakeBorder(np.ascontiguousarray(rgb), p, p, p, p, cv2.BORDER_REPLICATE)
        a = cv2.copyMakeBorder(np.ascontiguousarray(alpha), p, p, p, p, cv2.BORDER_CONSTANT,
                               value=0)
        rgba = np.ascontiguousarray(np.dstack([rgb, a]))
        return cls(kind, rgba, a, center, scale, angle, z, active)

    def affine(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the sprite-to-image 2x3 matrix (pixel indices) and the image corners."""
        sh, sw = self.alpha.shape
        sx, sy = self.scale[i]
        c, s = math.cos(self.angle[i]), math.sin(self.angle[i])
        a = np.array([[c * sx, -s * sy], [s * sx, c * sy]])
        # continuous coordinates (pixel j covers [j, j + 1)): sprite centre -> object centre
        t = self.center[i] - a @ np.array([sw / 2.0, sh / 2.0])
        corners = (a @ np.array([[0, sw, sw, 0], [0, 0, sh, sh]], float)).T + t
        m = np.empty((2, 3))
        m[:, :2] = a
        m[:, 2] = a @ np.array([0.5, 0.5]) + t - 0.5  # to pixel-index coordinates
        return m, corners


def _warp(layer: _Layer, i: int, pad: int, clip: tuple[int, int] | None, with_rgb: bool
          ) -> tuple[int, int, np.ndarray, np.ndarray | None] | None:
    """
    Render a layer at frame i into its bounding region.

    Returns (x0, y0, alpha, rgba): alpha (h, w) uint8 placed at image pixel (x0, y0) (the
    mask is alpha >= 128) and the (h, w, 4) RGBA render (None without with_rgb). The
    region grows by pad pixels on each side; it is clipped to clip=(W, H) when given, else
    it may extend outside the frame.
    """
    m, corners = layer.affine(i)
    x0 = int(math.floor(corners[:, 0].min())) - pad
    x1 = int(math.ceil(corners[:, 0].max())) + pad
    y0 = int(math.floor(corners[:, 1].min())) - pad
    y1 = int(math.ceil(corners[:, 1].max())) + pad
    if clip is not None:
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, clip[0]), min(y1, clip[1])
        if x1 <= x0 or y1 <= y0:
            return None
    m[:, 2] -= (x0, y0)
    size = (x1 - x0, y1 - y0)
    if with_rgb:
        rgba = cv2.warpAffine(layer.rgba, m, size, flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return x0, y0, np.ascontiguousarray(rgba[:, :, 3]), rgba
    alpha = cv2.warpAffine(layer.alpha, m, size, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return x0, y0, alpha, None


def _composite(frame: np.ndarray, x0: int, y0: int, alpha: np.ndarray, rgba: np.ndarray,
               kernel: np.ndarray | None) -> None:
    """
    Paste a rendered layer into the frame.

    The layer's mask is alpha >= 128; the layer is motion-blurred when a kernel is given.
    """
    hh, ww = frame.shape[:2]
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + alpha.shape[1], ww), min(y0 + alpha.shape[0], hh)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    sl = (slice(fy0 - y0, fy1 - y0), slice(fx0 - x0, fx1 - x0))
    dst = frame[fy0:fy1, fx0:fx1]
    _, m8 = cv2.threshold(alpha, 127, 255, cv2.THRESH_BINARY)
    rgb = cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB)
    if kernel is None:
        cv2.copyTo(np.ascontiguousarray(rgb[sl]), np.ascontiguousarray(m8[sl]), dst)
        return
    # Layered motion blur: blur the premultiplied layer and its coverage together, so the
    # smear mixes with what lies behind (the label keeps the unblurred mask).
    pre = cv2.filter2D(cv2.copyTo(rgb, m8), -1, kernel, borderType=cv2.BORDER_CONSTANT)
    cover = cv2.filter2D(m8, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    keep = cv2.cvtColor(cv2.bitwise_not(np.ascontiguousarray(cover[sl])), cv2.COLOR_GRAY2RGB)
    cv2.add(cv2.multiply(dst, keep, scale=1 / 255.0), np.ascontiguousarray(pre[sl]), dst=dst)


@functools.lru_cache(maxsize=4096)
def _cached_kernel(length2: int, angle_deg3: int) -> np.ndarray:
    k = line_kernel(length2 / 2.0, math.radians(angle_deg3 * 3))
    k.setflags(write=False)
    return k


def _blur_kernel(velocity: np.ndarray, exposure: float) -> np.ndarray | None:
    """Blur kernel for an image velocity; length quantised to 0.5 px and angle to 3 deg."""
    length = exposure * float(math.hypot(velocity[0], velocity[1]))
    if length < _MIN_BLUR:
        return None
    angle = math.degrees(math.atan2(velocity[1], velocity[0])) % 180.0
    return _cached_kernel(int(round(length * 2)), int(round(angle / 3)) % 60)


def _extent(mask: np.ndarray) -> tuple[int, int]:
    """Width and height of the mask's bounding box (1, 1 when empty)."""
    cols = np.flatnonzero(mask.any(axis=0))
    rows = np.flatnonzero(mask.any(axis=1))
    if len(cols) == 0:
        return 1, 1
    return int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def _velocity(path: np.ndarray) -> np.ndarray:
    """Per-frame image velocity (n, 2) by central differences."""
    if len(path) < 2:
        return np.zeros_like(path)
    return np.gradient(path, axis=0)


class SyntheticSequence:
    """
    A lazily rendered synthetic sequence; build it with generate_sequence.

    frame(i) renders frame i (image and label); label(i) computes only the label, several
    times faster (for samplers that pick frames by visibility). Iterating yields frames
    in order. info() describes the sequence (seed, spec, drawn strengths, sources).
    """

    def __init__(self, seed: int, num_frames: int, spec: SequenceSpec | None = None) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f'seed must be a non-negative integer, got {seed!r}')
        if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) \
                or num_frames < 1:
            raise ValueError(f'num_frames must be a positive integer, got {num_frames!r}')
        if spec is not None and not isinstance(spec, SequenceSpec):
            raise TypeError(f'spec must be a SequenceSpec, got {type(spec).__name__}')
        self.seed = int(seed)
        self.num_frames = int(num_frames)
        self.spec = spec if spec is not None else SequenceSpec()
        self.width, self.height = self.spec.width, self.spec.height
        rng = np.random.default_rng([self.seed, 0x5EC])
        self.params = self.spec.draw(rng)
        self.sources: dict[str, Any] = {}
        self._pool = photos.SplitPool(self.spec.photo_split) if self.spec.photo_split else None
        self._plan(rng)
        if self._pool is not None:
            self.sources['photos'] = sorted(self._pool.used)

    # ----------------------------------------------------------------- planning
    def _plan(self, rng: np.random.Generator) -> None:
        p, n = self.params, self.num_frames
        w, h = self.width, self.height
        diag, sq = math.hypot(w, h), math.sqrt(w * h)
        unit = diag / 800.0  # pixel quantities in the spec are given at 640x480
        shake_px = p['camera_shake'] * unit
        room = int(math.ceil(4 * shake_px)) + 2
        mx, my = int(0.25 * w) + room, int(0.25 * h) + room
        self._canvas = self._make_canvas(rng, w + 2 * mx, h + 2 * my)

        # camera: smooth pan inside the canvas margin plus shake (content moves opposite)
        pan = np.clip(smooth_noise(rng, n, rng.uniform(60, 160), 2) / 2.0, -1, 1)
        pan *= p['camera_pan'] * np.array([mx - room, my - room])
        white = gaussian_filter1d(rng.standard_normal((n, 2)), 0.8, axis=0) / 0.594
        envelope = np.exp(0.7 * smooth_noise(rng, n, 40)) / math.exp(0.245)
        shake = np.clip(white * envelope * shake_px, -(room - 1), room - 1)
        self._cam = np.array([mx, my], float) + pan + shake
        self._cam_velocity = _velocity(self._cam)
        self._phases: dict[tuple[float, float], np.ndarray] = {}

        # target sprite: size at scale 1 and the sprite resolution (sharp up to max scale)
        size = p['target_size'] * sq
        aspect = p['target_aspect']
        tw, th = size * math.sqrt(aspect), size / math.sqrt(aspect)
        rf = min(math.exp(1.5 * p['scale_change']), 400.0 / max(tw, th))
        spw, sph = max(4, int(round(tw * rf))), max(4, int(round(th * rf)))
        tex_name = self.sources['background'] if rng.random() < p['camouflage'] \
            and not self.sources['background'].startswith('procedural') else None
        if self._pool is not None and tex_name is None and rng.random() < CUTOUT_PROB:
            pid = self._pool.pick(rng)
            rgb, alpha, how = photos.cutout(rng, self._pool.load(pid), spw, sph)
            self.sources['target'], self.sources['target_shape'] = pid, how
        else:
            rgb, self.sources['target'] = self._texture(rng, spw, sph, 0.85, tex_name)
            alpha, self.sources['target_shape'] = images.shape_mask(rng, spw, sph)

        logs = math.log(1.0 / rf) + p['scale_change'] * smooth_noise(
            rng, n, rng.uniform(40, 120))[:, 0]
        if rng.random() < 0.3:  # the target approaches or recedes over the sequence
            logs += rng.uniform(-1.5, 1.5) * p['scale_change'] * np.linspace(0, 1, n)
        base = math.sqrt(spw * sph)
        logs = np.clip(logs, math.log(6.0 / base), math.log(0.7 * min(w, h) / base))
        loga = p['aspect_change'] * smooth_noise(rng, n, rng.uniform(40, 120))[:, 0]
        scale = np.exp(np.stack([logs + loga / 2, logs - loga / 2], 1))
        angle = p['rotation'] * smooth_noise(rng, n, rng.uniform(40, 120))[:, 0]
        if rng.random() < 0.2 * p['rotation']:  # a spinning target
            angle += rng.choice([-1, 1]) * rng.uniform(0.01, 0.05) * np.arange(n)
        radius = 0.5 * np.hypot(spw * scale[:, 0], sph * scale[:, 1])

        center = plan_target(rng, n, w, h, radius, p['speed'] * diag,
                             p['fast_motion'] / 100.0, p['out_of_view'] / 1000.0,
                             p['out_of_view_frames'], margin=3 * shake_px + 2)
        # objects are planned in image pixels; the camera moves by +shake, so image
        # content moves by -shake (pan moves only the background: the camera follows)
        target = _Layer.make('target', rgb, alpha, center - shake, scale, angle, 0.0)
        self._target = target
        self._radius = radius
        self._extent0 = _extent(_warp(target, 0, 0, None, False)[2] >= 128)
        layers = [target]

        # look-alike distractors: the target's texture with another shape or colour jitter
        self.sources['distractors'] = []
        for j in range(int(p['distractors'])):
            same_shape = rng.random() < p['distractor_similarity']
            d_alpha = alpha if same_shape else images.shape_mask(rng, spw, sph)[0]
            gain = np.exp(rng.uniform(-0.15, 0.15, 3) * (0.5 if same_shape else 1.0))
            d_rgb = np.clip(rgb * gain, 0, 255).astype(np.uint8)
            if rng.random() < 0.5:
                d_rgb, d_alpha = d_rgb[:, ::-1].copy(), d_alpha[:, ::-1].copy()
            d_logs = logs + rng.uniform(-0.3, 0.3) + 0.15 * smooth_noise(rng, n, 80)[:, 0]
            d_scale = np.exp(np.stack([d_logs + loga / 2, d_logs - loga / 2], 1))
            d_angle = rng.uniform(-0.5, 0.5) + p['rotation'] * smooth_noise(rng, n, 80)[:, 0]
            d_r0 = 0.5 * math.hypot(spw * d_scale[0, 0], sph * d_scale[0, 1])
            start = self._away_from(rng, target.center[0], radius[0] + d_r0 + 8)
            d_center = plan_wander(rng, n, w, h, start, center,
                                   reach=rng.uniform(1.5, 4.0) * 2 * float(radius.mean()),
                                   speed=p['speed'] * diag * rng.uniform(0.6, 1.4))
            z = -1.0 - 0.01 * j if rng.random() < 0.7 else 0.5 + 0.01 * j
            layers.append(_Layer.make('distractor', d_rgb, d_alpha, d_center - shake,
                                      d_scale, d_angle, z))
            self.sources['distractors'].append('same_shape' if same_shape else 'other_shape')

        # occluders: textured shapes planned to cross the target's path at chosen times
        self._occluder_times = []
        t_cs = sorted(int(t) for t in rng.integers(15, max(n - 5, 16),
                                                   rng.poisson(p['occlusion'] / 100.0 * n)))
        for j, t_c in enumerate(t_cs):
            if t_c >= n:
                continue
            lay = self._plan_occluder(rng, t_c, center, radius, shake, j)
            if lay is not None:
                layers.append(lay)
                self._occluder_times.append(t_c)

        self._layers = sorted(layers, key=lambda lay: lay.z)
        self._plan_light(rng, center, radius)
        self._plan_noise(rng)

    def _away_from(self, rng: np.random.Generator, c: np.ndarray, dist: float
                   ) -> tuple[float, float]:
        for _ in range(30):
            q = (rng.uniform(0.05, 0.95) * self.width, rng.uniform(0.05, 0.95) * self.height)
            if math.hypot(q[0] - c[0], q[1] - c[1]) >= dist:
                return q
        a = rng.uniform(0, 2 * math.pi)
        return float(c[0] + dist * math.cos(a)), float(c[1] + dist * math.sin(a))

    def _plan_occluder(self, rng: np.random.Generator, t_c: int, center: np.ndarray,
                       radius: np.ndarray, shake: np.ndarray, j: int) -> _Layer | None:
        n, w, h = self.num_frames, self.width, self.height
        full = rng.random() < self.params['full_occlusion']
        r_t = float(radius[t_c])
        if full:  # big and compact enough to cover the whole target disc
            kind = ('ellipse', 'rectangle', 'blob')[int(rng.integers(3))]
            ow, oh = 2 * r_t * rng.uniform(1.3, 1.9, 2)
            offset = rng.uniform(-0.15, 0.15) * r_t
        else:
            kind = None
            ow, oh = 2 * r_t * rng.uniform(0.35, 1.1, 2)
            offset = rng.uniform(-1.0, 1.0) * r_t
        ow, oh = max(4, int(round(ow))), max(4, int(round(oh)))
        rgb, _ = self._texture(rng, ow, oh, 0.7)
        alpha, _ = images.shape_mask(rng, ow, oh, kind)
        r_o = 0.5 * math.hypot(ow, oh)
        t_cross = rng.uniform(10, 50)
        speed = float(np.clip(2 * (r_o + r_t) / t_cross, 0.5, 0.05 * math.hypot(w, h)))
        a = rng.uniform(0, 2 * math.pi)
        lo, hi = max(0, t_c - int(t_cross)), min(n, t_c + int(t_cross) + 1)
        v_tgt = (center[hi - 1] - center[lo]) / max(hi - 1 - lo, 1)
        v = speed * np.array([math.cos(a), math.sin(a)]) + v_tgt
        c0 = center[t_c] + offset * np.array([-math.sin(a), math.cos(a)])
        t = np.arange(n, dtype=float)[:, None]
        path = c0 + v * (t - t_c) - shake
        active = ((path[:, 0] > -r_o) & (path[:, 0] < w + r_o)
                  & (path[:, 1] > -r_o) & (path[:, 1] < h + r_o))
        # keep the first frames clear so the tracker starts on an unoccluded target
        early = slice(0, min(5, n))
        d0 = np.hypot(*(path[early] - (center[early] - shake[early])).T)
        if np.any(active[early] & (d0 < r_o + radius[early] + 2)):
            return None
        scale = np.ones((n, 2))
        angle = rng.uniform(0, 2 * math.pi) + rng.uniform(-0.02, 0.02) * (t[:, 0] - t_c)
        return _Layer.make('occluder', rgb, alpha, path, scale, angle, 1.0 + 0.01 * j, active)

    def _texture(self, rng: np.random.Generator, width: int, height: int,
                 natural_prob: float, name: str | None = None) -> tuple[np.ndarray, str]:
        """images.texture, with natural patches from the spec's photo split when it names one."""
        if self._pool is None:
            return images.texture(rng, width, height, natural_prob, name)
        return images.texture(rng, width, height, natural_prob, name, self._pool.pick,
                              self._pool.load)

    def _make_canvas(self, rng: np.random.Generator, cw: int, ch: int) -> np.ndarray:
        """
        Build the background, larger than the frame.

        A natural image (mirrored at its borders when smaller than the canvas), sometimes
        blended with a procedural texture, plus static textured clutter. With a photo split
        the image is a photo of that split.
        """
        w, h = self.width, self.height
        if rng.random() < 0.12:
            kind = images.TEXTURE_KINDS[int(rng.integers(len(images.TEXTURE_KINDS)))]
            canvas = images.procedural_texture(rng, cw, ch, kind)
            self.sources['background'] = f'procedural:{kind}'
        else:
            if self._pool is None:
                name = images.BACKGROUND_IMAGES[
                    int(rng.integers(len(images.BACKGROUND_IMAGES)))]
                src = images.natural_image(name)
            else:
                name = self._pool.pick(rng)
                src = self._pool.load(name)
            self.sources['background'] = name
            sh, sw = src.shape[:2]
            z = max(rng.uniform(0.9, 1.3), w / sw, h / sh)  # cover the frame, stay sharp
            img = cv2.resize(src, (max(w, int(round(sw * z))), max(h, int(round(sh * z)))),
                             interpolation=cv2.INTER_LINEAR)
            if rng.random() < 0.5:
                img = img[:, ::-1]
            px, py = max(0, cw - img.shape[1]), max(0, ch - img.shape[0])
            img = cv2.copyMakeBorder(np.ascontiguousarray(img), py // 2, py - py // 2,
                                     px // 2, px - px // 2, cv2.BORDER_REFLECT_101)
            x0 = int(rng.integers(0, img.shape[1] - cw + 1))
            y0 = int(rng.integers(0, img.shape[0] - ch + 1))
            canvas = np.ascontiguousarray(images.tint(rng, img[y0:y0 + ch, x0:x0 + cw]))
            if rng.random() < 0.25:
                tex = images.procedural_texture(rng, cw, ch)
                canvas = cv2.addWeighted(canvas, 1 - (a := rng.uniform(0.15, 0.4)), tex, a, 0)
        sq = math.sqrt(w * h)
        for _ in range(int(rng.integers(2, 9))):  # static clutter objects
            ow, oh = (max(4, int(sq * rng.uniform(0.05, 0.25))) for _ in range(2))
            rgb, _ = self._texture(rng, ow, oh, 0.7)
            alpha, _ = images.shape_mask(rng, ow, oh)
            x, y = int(rng.integers(0, cw - ow + 1)), int(rng.integers(0, ch - oh + 1))
            np.copyto(canvas[y:y + oh, x:x + ow], rgb, where=alpha[:, :, None] > 0)
        return canvas

    def _plan_light(self, rng: np.random.Generator, center: np.ndarray, radius: np.ndarray
                    ) -> None:
        """
        Plan the illumination.

        Global gain and gamma drift with sudden switches, colour cast, a moving linear
        gradient and shadows passing over the target.
        """
        n, s = self.num_frames, self.params['illumination']
        self._light = s > 0
        if not self._light:
            return
        gain = 0.3 * s * smooth_noise(rng, n, rng.uniform(40, 150))[:, 0]
        for t_s in rng.integers(10, max(n, 11), rng.poisson(s * n / 400.0)):
            ramp = np.clip((np.arange(n) - t_s) / rng.uniform(1, 6), 0, 1)
            gain += rng.uniform(-0.6, 0.6) * s * ramp
        self._gain = np.exp(gain)
        self._gamma = np.exp(0.25 * s * smooth_noise(rng, n, rng.uniform(40, 150))[:, 0])
        self._cast = np.exp(0.08 * s * smooth_noise(rng, n, rng.uniform(40, 150), 3))
        self._grad = 0.35 * s * smooth_noise(rng, n, rng.uniform(40, 150))[:, 0]
        self._grad_dir = rng.uniform(0, 2 * math.pi) + smooth_noise(rng, n, 150)[:, 0]
        self._shadows = []
        for t_c in rng.integers(15, max(n, 16), rng.poisson(s * 0.5 * n / 100.0)):
            t_c = min(int(t_c), n - 1)
            a = rng.uniform(0, 2 * math.pi)
            v = rng.uniform(1, 4) * math.hypot(self.width, self.height) / 800.0
            self._shadows.append((t_c, center[t_c].copy(), v * math.cos(a), v * math.sin(a),
                                  float(radius[t_c]) * rng.uniform(1.0, 3.0),
                                  rng.uniform(0.3, 0.6) * s))
        gw, gh = -(-self.width // 16), -(-self.height // 16)
        # node positions as cv2.resize samples them when upsampling (gw, gh) -> (W, H)
        gx = (np.arange(gw) + 0.5) * self.width / gw - 0.5
        gy = (np.arange(gh) + 0.5) * self.height / gh - 0.5
        self._grid = np.meshgrid(gx, gy)

    def _light_at(self, i: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Multiplicative light field (without colour cast and gamma) at points (x, y)."""
        w, h = self.width, self.height
        d = self._grad_dir[i]
        u = ((x - w / 2) * math.cos(d) + (y - h / 2) * math.sin(d)) / (0.5 * math.hypot(w, h))
        f = self._gain[i] * (1.0 + self._grad[i] * u)
        for t_c, c, vx, vy, rad, strength in self._shadows:
            cx, cy = c[0] + vx * (i - t_c), c[1] + vy * (i - t_c)
            if abs(i - t_c) * math.hypot(vx, vy) > 4 * rad + math.hypot(w, h):
                continue
            f = f * (1.0 - strength * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * rad ** 2)))
        return f

    def _plan_noise(self, rng: np.random.Generator) -> None:
        sigma = self.params['noise']
        self._noise = None
        if sigma < 0.3:
            return
        # one bank of Gaussian noise per sequence, split into its positive and negative
        # parts (two saturating uint8 ops per frame); each frame adds a crop at its own
        # random offsets
        m = 32
        nz = rng.standard_normal((self.height + m, self.width + m, 3), dtype=np.float32)
        nz = np.rint(nz * np.float32(sigma))
        self._noise = (np.clip(nz, 0, 255).astype(np.uint8),
                       np.clip(-nz, 0, 255).astype(np.uint8))
        self._noise_offsets = rng.integers(0, m + 1, (self.num_frames, 4))

    # ---------------------------------------------------------------- rendering
    def __len__(self) -> int:
        return self.num_frames

    def __iter__(self) -> Iterator[SyntheticFrame]:
        for i in range(self.num_frames):
            yield self.frame(i)

    def frame(self, i: int) -> SyntheticFrame:
        """Render frame i (image and label)."""
        return self._render(self._index(i), True)

    def label(self, i: int) -> FrameLabel:
        """Label of frame i (box, visible mask, visibility, flags) without rendering pixels."""
        return self._render(self._index(i), False)

    def _index(self, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f'frame index must be an integer, got {i!r}')
        if not 0 <= i < self.num_frames:
            raise IndexError(f'frame {i} out of range for a sequence of {self.num_frames}')
        return int(i)

    def _background(self, i: int) -> np.ndarray:
        """
        Crop the canvas the camera sees at frame i (a fresh array).

        The camera offset is rounded to half pixels: the four half-pixel phases of the
        canvas are resampled once (lazily), so each frame is a plain crop.
        """
        qx, qy = np.round(self._cam[i] * 2) / 2
        ix, iy = int(math.floor(qx)), int(math.floor(qy))
        phase = (qx - ix, qy - iy)
        canvas = self._phases.get(phase)
        if canvas is None:
            m = np.array([[1.0, 0.0, -phase[0]], [0.0, 1.0, -phase[1]]])
            canvas = cv2.warpAffine(self._canvas, m, self._canvas.shape[1::-1],
                                    flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            self._phases[phase] = canvas
        return canvas[iy:iy + self.height, ix:ix + self.width].copy()

    def _render(self, i: int, with_image: bool) -> FrameLabel:
        w, h = self.width, self.height
        exposure = self.params['motion_blur']
        frame = None
        if with_image:
            frame = self._background(i)
            k = _blur_kernel(-self._cam_velocity[i], exposure)
            if k is not None:
                frame = cv2.filter2D(frame, -1, k, borderType=cv2.BORDER_REFLECT_101)

        # the target's amodal mask, rendered whole (also outside the frame); the box, the
        # visibility and the pixels all come from this one render
        t_kernel = _blur_kernel(self._target.velocity[i], exposure) if with_image else None
        pad = t_kernel.shape[0] // 2 + 1 if t_kernel is not None else 0
        tx0, ty0, t_alpha, t_rgba = _warp(self._target, i, pad, None, with_image)
        t_mask = t_alpha >= 128
        area_full = int(np.count_nonzero(t_mask))
        fx0, fy0 = max(tx0, 0), max(ty0, 0)
        fx1, fy1 = min(tx0 + t_mask.shape[1], w), min(ty0 + t_mask.shape[0], h)
        visible = np.zeros((h, w), bool)
        amodal_in = 0
        box = np.full(4, np.nan)
        if fx1 > fx0 and fy1 > fy0:
            inside = t_mask[fy0 - ty0:fy1 - ty0, fx0 - tx0:fx1 - tx0]
            visible[fy0:fy1, fx0:fx1] = inside
            amodal_in = int(np.count_nonzero(inside))
        if amodal_in:
            cols = np.flatnonzero(inside.any(axis=0))
            rows = np.flatnonzero(inside.any(axis=1))
            box_in = np.array([fx0 + cols[0], fy0 + rows[0], cols[-1] - cols[0] + 1,
                               rows[-1] - rows[0] + 1], float)

        for layer in self._layers:
            if layer is self._target:
                if with_image:
                    _composite(frame, tx0, ty0, t_alpha, t_rgba, t_kernel)
                continue
            if layer.active is not None and not layer.active[i]:
                continue
            if layer.z < 0 and not with_image:
                continue  # below the target: cannot change its label
            kern = _blur_kernel(layer.velocity[i], exposure) if with_image else None
            out = _warp(layer, i, kern.shape[0] // 2 + 1 if kern is not None else 0,
                        (w, h) if kern is None else None, with_image)
            if out is None:
                continue
            x0, y0, alpha, rgba = out
            if with_image:
                _composite(frame, x0, y0, alpha, rgba, kern)
            if layer.z > 0:
                lx0, ly0 = max(x0, 0), max(y0, 0)
                lx1, ly1 = min(x0 + alpha.shape[1], w), min(y0 + alpha.shape[0], h)
                if lx1 > lx0 and ly1 > ly0:
                    cover = alpha[ly0 - y0:ly1 - y0, lx0 - x0:lx1 - x0] >= 128
                    visible[ly0:ly1, lx0:lx1] &= ~cover

        n_visible = int(np.count_nonzero(visible))
        visibility = n_visible / area_full if area_full else 0.0
        if amodal_in and visibility >= ABSENT_VISIBILITY:
            box = box_in
        flags = self._flags(i, area_full, amodal_in, n_visible, box, _extent(t_mask))
        if not with_image:
            return FrameLabel(i, box, visible, visibility, flags)
        if self._light:
            frame = self._apply_light(frame, i)
        if self._noise is not None:
            pos, neg = self._noise
            a, b, c, d = self._noise_offsets[i]
            frame = cv2.subtract(cv2.add(frame, pos[a:a + h, b:b + w]), neg[c:c + h, d:d + w])
        return SyntheticFrame(i, box, visible, visibility, flags, frame)

    def _apply_light(self, frame: np.ndarray, i: int) -> np.ndarray:
        """
        Apply the illumination of frame i.

        Gamma by a lookup table, then the light field (gain, colour cast, gradient,
        shadows) as a multiplier in 1/128 steps, upsampled from a coarse grid.
        """
        lut = np.clip(255.0 * (np.arange(256) / 255.0) ** self._gamma[i] + 0.5, 0, 255)
        frame = cv2.LUT(frame, lut.astype(np.uint8))
        gx, gy = self._grid
        f = self._light_at(i, gx, gy)[:, :, None] * self._cast[i][None, None, :]
        f8 = np.clip(f * 128.0 + 0.5, 0, 255).astype(np.uint8)
        big = cv2.resize(f8, (self.width, self.height), interpolation=cv2.INTER_LINEAR)
        return cv2.multiply(frame, big, scale=1 / 128.0)

    def _brightness(self, i: int) -> float:
        """Light on the target: field at its centre times the gamma-mapped mid grey."""
        c = self._target.center[i]
        f = float(self._light_at(i, np.array(c[0]), np.array(c[1])))
        return f * 0.5 ** self._gamma[i] * float(self._cast[i].mean())

    def _flags(self, i: int, area_full: int, amodal_in: int, n_visible: int,
               box: np.ndarray, extent: tuple[int, int]) -> dict[str, bool]:
        w, h = self.width, self.height
        unit = math.hypot(w, h) / 800.0
        t = self._target
        occluded = (amodal_in - n_visible) / area_full if area_full else 0.0
        outside = (area_full - amodal_in) / area_full if area_full else 1.0
        # scale and aspect of the whole (unclipped) amodal box against frame 0's
        (w0, h0), (w1, h1) = self._extent0, extent
        s0, s = math.sqrt(w0 * h0), math.sqrt(max(w1 * h1, 1))
        a0, a = w0 / h0, max(w1, 1) / max(h1, 1)
        step = t.center[i] - t.center[i - 1] if i > 0 else np.zeros(2)
        near = False
        for layer in self._layers:
            if layer.kind != 'distractor':
                continue
            dc = layer.center[i]
            r_d = 0.5 * math.hypot(*(np.array(layer.alpha.shape[::-1]) * layer.scale[i]))
            if (0 <= dc[0] < w and 0 <= dc[1] < h
                    and math.hypot(*(dc - t.center[i])) < 1.5 * self._radius[i] + r_d):
                near = True
        blur = self.params['motion_blur'] * max(
            math.hypot(*self._target.velocity[i]), math.hypot(*self._cam_velocity[i]))
        illum = False
        if self._light:
            ratio = self._brightness(i) / self._brightness(0)
            illum = not 1 / _ILLUM_RATIO <= ratio <= _ILLUM_RATIO
        cam_v = self._cam[i] - self._cam[i - 1] if i > 0 else np.zeros(2)
        absent = not np.isfinite(box).all()
        return {
            'occlusion': occluded >= _PARTIAL,
            'full_occlusion': absent and amodal_in > 0 and occluded >= outside,
            'out_of_view': outside >= _PARTIAL,
            'fast_motion': bool(math.hypot(*step) > _FAST_PX * unit),
            'scale_change': bool(not 1 / _SCALE_RATIO <= s / s0 <= _SCALE_RATIO),
            'aspect_change': bool(not 1 / _SCALE_RATIO <= a / a0 <= _SCALE_RATIO),
            'rotation': bool(abs(t.angle[i] - t.angle[0]) >= _ROTATION),
            'distractor': near,
            'blur': bool(blur >= _BLUR_PX),
            'illumination': bool(illum),
            'camera_motion': bool(math.hypot(*cam_v) >= _CAMERA_PX * unit),
            'low_resolution': bool(not absent and box[2] * box[3] < _LOW_RES_AREA),
        }

    def info(self) -> dict[str, Any]:
        """
        Describe the sequence (JSON-ready).

        Seed, frames, size, generator version, spec, drawn strengths, image sources and
        the frames where occluders were planned to cross the target; with a photo split,
        also the digest of that split's photos on this machine (photos.pool_digest).
        """
        out = {
            'seed': self.seed,
            'num_frames': self.num_frames,
            'width': self.width,
            'height': self.height,
            'generator_version': GENERATOR_VERSION,
            'output_digest': output_digest(),
            'spec': self.spec.to_dict(),
            'params': dict(self.params),
            'sources': dict(self.sources),
            'occlusion_events': list(self._occluder_times),
            'libraries': {'opencv': cv2.__version__, 'numpy': np.__version__},
        }
        if self.spec.photo_split:
            out['photo_pool'] = photos.pool_digest(self.spec.photo_split)
        return out


@functools.lru_cache(maxsize=1)
def output_digest() -> str:
    """
    Digest the frames and labels of a small canonical sequence (this code, these libraries).

    Written suites record it, so any change of the generator's output (code, OpenCV or
    NumPy version) is detected and the suite rewritten, even without a version bump.
    """
    spec = SequenceSpec(width=96, height=72, occlusion=(10.0, 10.0), distractors=(2.0, 2.0),
                        motion_blur=(1.0, 1.0), illumination=(1.0, 1.0), noise=(5.0, 5.0),
                        speed=(0.02, 0.02), camera_shake=(3.0, 3.0))
    h = hashlib.sha256(GENERATOR_VERSION.encode())
    for f in SyntheticSequence(0, 24, spec):
        h.update(f.image.tobytes())
        h.update(f.mask.tobytes())
        h.update(repr((f.box.tolist(), f.visibility, sorted(f.flags.items()))).encode())
    return h.hexdigest()[:16]


def generate_sequence(seed: int, num_frames: int, spec: SequenceSpec | None = None
                      ) -> SyntheticSequence:
    """
    Plan a synthetic sequence; frames render lazily with frame(i) or by iterating.

    The same (seed, num_frames, spec) always gives bit-identical frames and labels.
    """
    return SyntheticSequence(seed, num_frames, spec)
