# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Mask scores as the DAVIS benchmark defines them.

Perazzi et al., CVPR 2016; Pont-Tuset et al., 2017; following the official
davis2017-evaluation code (davis2017/metrics.py, utils.py).

- Region similarity J: the IoU of the predicted and true masks; 1 when both are empty.
- Contour accuracy F: the F-measure of the mask boundaries (seg2bmap), a boundary pixel
  matching when the other boundary lies within ceil(0.008 x image diagonal) pixels (a disk
  dilation); precision 1 / recall 0 when only the truth has a boundary and the reverse when
  only the prediction has one, 1 / 1 when neither has.
- Per sequence: mean M, recall O (share of frames above 0.5) and decay D (mean of the first
  quarter of the frames minus the last quarter's) over the frames between the first and the
  last (davis2017-evaluation scores frames 1..N-2: the first is the given annotation).
  Deviation: the reference computes the quarter boundaries in uint8, which wraps for
  sequences of more than 255 frames; here they are plain integers (equal below 256).
- J&F = (J mean + F mean) / 2.
"""

from __future__ import annotations

import math
from typing import Iterable

import cv2
import numpy as np

BOUND_TH = 0.008


def region_similarity(pred: np.ndarray, gt: np.ndarray) -> float:
    """J of one frame: IoU of two boolean (H, W) masks, 1 when both are empty."""
    p, g = _check(pred, gt)
    union = np.count_nonzero(p | g)
    return 1.0 if union == 0 else np.count_nonzero(p & g) / union


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """Return the boundary (DAVIS's seg2bmap): pixels whose E, S or SE neighbour differs."""
    seg = np.asarray(mask, dtype=bool)
    e = np.zeros_like(seg)
    s = np.zeros_like(seg)
    se = np.zeros_like(seg)
    e[:, :-1] = seg[:, 1:]
    s[:-1, :] = seg[1:, :]
    se[:-1, :-1] = seg[1:, 1:]
    b = (seg ^ e) | (seg ^ s) | (seg ^ se)
    b[-1, :] = seg[-1, :] ^ e[-1, :]
    b[:, -1] = seg[:, -1] ^ s[:, -1]
    b[-1, -1] = False
    return b


def disk(radius: int) -> np.ndarray:
    """scikit-image's disk: the offsets with x^2 + y^2 <= radius^2, as a uint8 kernel."""
    r = np.arange(-radius, radius + 1)
    return (r[:, None] ** 2 + r[None, :] ** 2 <= radius ** 2).astype(np.uint8)


def contour_accuracy(pred: np.ndarray, gt: np.ndarray, bound_th: float = BOUND_TH) -> float:
    """F of one frame: boundary F-measure with DAVIS's tolerance."""
    p, g = _check(pred, gt)
    bound_pix = bound_th if bound_th >= 1 else math.ceil(bound_th * math.hypot(*p.shape))
    kernel = disk(int(bound_pix))
    fb, gb = boundary_map(p), boundary_map(g)
    fg_dil = cv2.dilate(fb.astype(np.uint8), kernel) > 0
    gt_dil = cv2.dilate(gb.astype(np.uint8), kernel) > 0
    n_fg, n_gt = np.count_nonzero(fb), np.count_nonzero(gb)
    if n_fg == 0 and n_gt > 0:
        precision, recall = 1.0, 0.0
    elif n_fg > 0 and n_gt == 0:
        precision, recall = 0.0, 1.0
    elif n_fg == 0 and n_gt == 0:
        precision, recall = 1.0, 1.0
    else:
        precision = np.count_nonzero(fb & gt_dil) / n_fg
        recall = np.count_nonzero(gb & fg_dil) / n_gt
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def statistics(values: Iterable[float]) -> dict[str, float]:
    """Return mean, recall (share above 0.5) and decay of per-frame values (db_statistics)."""
    v = np.asarray(list(values), dtype=np.float64)
    if len(v) == 0:
        return {'mean': math.nan, 'recall': math.nan, 'decay': math.nan}
    ids = np.round(np.linspace(1, len(v), 5) + 1e-10).astype(int) - 1
    bins = [v[ids[i]:ids[i + 1] + 1] for i in range(4)]
    with np.errstate(invalid='ignore'):
        return {'mean': float(np.nanmean(v)), 'recall': float(np.nanmean(v > 0.5)),
                'decay': float(np.nanmean(bins[0]) - np.nanmean(bins[3]))}


def sequence_scores(preds: list[np.ndarray | None], gts: list[np.ndarray | None]
                    ) -> dict[str, object]:
    """
    J and F of a sequence: per-frame values and their statistics.

    The first and last frames are left out, as davis2017-evaluation does; so are frames
    without a true mask (unlabelled: None). A missing prediction counts as an empty mask.
    """
    if len(preds) != len(gts):
        raise ValueError(f'{len(preds)} predicted masks for {len(gts)} true ones')
    j, f, frames = [], [], []
    for i in range(1, len(gts) - 1):
        g = gts[i]
        if g is None:
            continue
        p = preds[i] if preds[i] is not None else np.zeros_like(g, dtype=bool)
        j.append(region_similarity(p, g))
        f.append(contour_accuracy(p, g))
        frames.append(i)
    js, fs = statistics(j), statistics(f)
    return {'frames': frames, 'J': j, 'F': f, 'J_mean': js['mean'], 'J_recall': js['recall'],
            'J_decay': js['decay'], 'F_mean': fs['mean'], 'F_recall': fs['recall'],
            'F_decay': fs['decay'], 'JF': (js['mean'] + fs['mean']) / 2}


def _check(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, g = np.asarray(pred), np.asarray(gt)
    if p.shape != g.shape or p.ndim != 2:
        raise ValueError(f'masks must be two (H, W) arrays of one shape, got {p.shape} and '
                         f'{g.shape}')
    return p > 0.5 if p.dtype != bool else p, g > 0.5 if g.dtype != bool else g


def mask_polygon(mask: np.ndarray) -> tuple[float, ...] | None:
    """
    Return the rotated rectangle around a mask's largest region as a VOT polygon.

    x1, y1, ..., x4, y4 (cv2.minAreaRect's corners), the region SiamMask reports to VOT from
    its mask; None for an empty mask.
    """
    m = (np.asarray(mask) > 0).astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    corners = cv2.boxPoints(cv2.minAreaRect(max(contours, key=cv2.contourArea)))
    return tuple(float(v) for v in corners.reshape(-1))
