# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
MDNet's candidate and training-sample generation (Nam and Han, CVPR 2016, section 4).

Boxes are (N, 4) float arrays of (x, y, w, h) in image pixels. 'gaussian' draws the centre
from a normal distribution around the box (sigma = trans x the mean side) and the scale from
scale_step ** N(0, 0.5 scale); 'uniform' draws the centre uniformly within +-trans x the mean
side and the scale uniformly in scale_step ** [-scale, scale] (MDNet's gen_samples). Samples
are clipped to stay inside the image by at least their half-size, as MDNet does.
"""

from __future__ import annotations

import numpy as np


def iou_xywh(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Return the IoU of each (x, y, w, h) box against one box."""
    x1 = np.maximum(boxes[:, 0], box[0])
    y1 = np.maximum(boxes[:, 1], box[1])
    x2 = np.minimum(boxes[:, 0] + boxes[:, 2], box[0] + box[2])
    y2 = np.minimum(boxes[:, 1] + boxes[:, 3], box[1] + box[3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = boxes[:, 2] * boxes[:, 3] + box[2] * box[3] - inter
    return inter / np.maximum(union, 1e-9)


def draw_samples(box: np.ndarray, n: int, rng: np.random.Generator, kind: str = 'gaussian',
                 trans: float = 0.1, scale: float = 1.0, scale_step: float = 1.05,
                 image_wh: tuple[int, int] | None = None) -> np.ndarray:
    """Return n boxes around box (x, y, w, h), drawn as MDNet draws them (see module doc)."""
    if kind not in ('gaussian', 'uniform'):
        raise ValueError(f"kind must be 'gaussian' or 'uniform', got {kind!r}")
    box = np.asarray(box, np.float64)
    cx, cy, w, h = box[0] + box[2] / 2, box[1] + box[3] / 2, box[2], box[3]
    side = (w + h) / 2.0
    if kind == 'gaussian':
        d = rng.normal(0.0, 1.0, (n, 2)).clip(-2, 2) * trans * side
        s = scale_step ** (rng.normal(0.0, 0.5, n).clip(-1, 1) * scale)
    else:
        d = rng.uniform(-1.0, 1.0, (n, 2)) * trans * side
        s = scale_step ** rng.uniform(-scale, scale, n)
    ws, hs = w * s, h * s
    xs, ys = cx + d[:, 0], cy + d[:, 1]
    if image_wh is not None:
        iw, ih = image_wh
        ws, hs = np.clip(ws, 4.0, iw - 4.0), np.clip(hs, 4.0, ih - 4.0)
        xs = np.clip(xs, ws / 2, iw - ws / 2)
        ys = np.clip(ys, hs / 2, ih - hs / 2)
    return np.stack([xs - ws / 2, ys - hs / 2, ws, hs], axis=1)


def labelled_samples(box: np.ndarray, n_pos: int, n_neg: int, rng: np.random.Generator,
                     image_wh: tuple[int, int], pos_iou: float = 0.7, neg_iou: float = 0.5,
                     neg_trans: float = 1.0, tries: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """
    Return (positives (n_pos, 4), negatives (n_neg, 4)) for MDNet's training.

    Positives: Gaussian samples (MDNet's trans 0.1, scale 1.3) with IoU >= pos_iou;
    negatives: half uniform near the target (within neg_trans x its mean side) and half
    farther (within 2 x neg_trans), with IoU < neg_iou. Falls back to the box itself
    (positives) or to what was found (negatives, repeated) when the draws keep missing.
    """
    pos = _keep(lambda k: draw_samples(box, k, rng, 'gaussian', 0.1, 1.3, 1.05, image_wh),
                lambda b: iou_xywh(b, box) >= pos_iou, n_pos, tries)
    if len(pos) < n_pos:
        pos = np.concatenate([pos, np.repeat(np.asarray(box, np.float64)[None],
                                             n_pos - len(pos), axis=0)])
    near = n_neg // 2
    neg = np.concatenate([
        _keep(lambda k: draw_samples(box, k, rng, 'uniform', neg_trans, 1.3, 1.05, image_wh),
              lambda b: iou_xywh(b, box) < neg_iou, near, tries),
        _keep(lambda k: draw_samples(box, k, rng, 'uniform', 2.0 * neg_trans, 1.6, 1.05,
                                     image_wh),
              lambda b: iou_xywh(b, box) < neg_iou, n_neg - near, tries)])
    if 0 < len(neg) < n_neg:
        neg = neg[rng.integers(0, len(neg), n_neg)]
    elif len(neg) == 0:
        raise ValueError('no negative sample found around the target')
    return pos[:n_pos], neg[:n_neg]


def _keep(draw, accept, n: int, tries: int) -> np.ndarray:
    found = []
    total = 0
    for _ in range(tries):
        b = draw(max(2 * n, 16))
        b = b[accept(b)]
        found.append(b)
        total += len(b)
        if total >= n:
            break
    return np.concatenate(found)[:n] if found else np.zeros((0, 4))
