# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
VOT region overlap by rasterisation, as pysot's toolkit computes it (vot_overlap).

pysot's region.pyx wraps the VOT toolkit's C region library (region.c). Its overlap is not
the exact polygon IoU: both polygons are rounded to integer vertices and rasterised
(scanline fill, both ends of a span included, so a box from x to x + 10 covers 11 pixel
columns) inside the bounds, and the overlap is the ratio of pixel counts. This module
re-implements that computation in numpy with the library's arithmetic (polygon and bounds
values are C floats, float32 here; C's round() rounds halves away from zero), so the VOT
numbers of this project agree with pysot's. A 4-value region x, y, w, h is the polygon
(x, y), (x + w, y), (x + w, y + h), (x, y + h), as pysot's vot_overlap builds it.
Bounds (W, H) clip both regions to left 0, top 0, right W, bottom H.
"""

from __future__ import annotations

import math
from typing import Sequence as Seq

import numpy as np

_f32 = np.float32


def _as_polygon(region: Seq[float]) -> np.ndarray:
    r = np.asarray(region, dtype=np.float64)
    if r.size == 4:
        x, y, w, h = r
        r = np.array([x, y, x + w, y, x + w, y + h, x, y + h])
    if r.size < 6 or r.size % 2:
        raise ValueError(f'a region has 4 values (box) or an even number >= 6 (polygon), '
                         f'got {r.size}')
    return r.astype(_f32).reshape(-1, 2)


def _c_round(v: np.ndarray) -> np.ndarray:
    """C round(): halves away from zero (numpy rounds halves to even)."""
    return (np.sign(v) * np.floor(np.abs(v.astype(np.float64)) + 0.5)).astype(_f32)


def _bounds(poly: np.ndarray) -> list[float]:
    """[left, top, right, bottom] of a polygon, rounded outwards (bounds_round)."""
    return [_f32(math.floor(poly[:, 0].min())), _f32(math.floor(poly[:, 1].min())),
            _f32(math.ceil(poly[:, 0].max())), _f32(math.ceil(poly[:, 1].max()))]


def _intersect(a: list[float], b: list[float]) -> list[float]:
    return [max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]


def _c_max(a: float, b: float) -> float:
    """Compute C's MAX(a, b) = a > b ? a : b (which passes NaN through when b is NaN)."""
    return a if a > b else b


def _bounds_overlap(a: list[float], b: list[float]) -> float:
    i = _intersect(a, b)
    inter = _f32(_f32(i[2] - i[0]) * _f32(i[3] - i[1]))
    area_a = _f32(_f32(a[2] - a[0]) * _f32(a[3] - a[1]))
    area_b = _f32(_f32(b[2] - b[0]) * _f32(b[3] - b[1]))
    with np.errstate(divide='ignore', invalid='ignore'):
        return float(_c_max(_f32(0.0), _f32(inter / _f32(area_a + area_b - inter))))


def rasterize(poly: np.ndarray, width: int, height: int) -> np.ndarray:
    """(height, width) bool mask of a polygon (region.c rasterize_polygon, non-legacy)."""
    mask = np.zeros((height, width), dtype=bool)
    p = _c_round(poly)
    xs, ys = p[:, 0].astype(np.float64), p[:, 1].astype(np.float64)
    yi = ys.astype(np.int64)
    n = len(p)
    for py in range(height):
        nodes = []
        j = n - 1
        for i in range(n):
            if ((yi[i] <= py < yi[j]) or (yi[j] <= py < yi[i])
                    or (yi[i] < py <= yi[j]) or (yi[j] < py <= yi[i])
                    or (yi[i] == yi[j] == py)):
                r = ys[j] - ys[i]
                if r != 0:
                    # (pixelY - y[i]) is a float sum in C; exact for these integer values.
                    nodes.append(int(xs[i] + (py - ys[i]) / r * (xs[j] - xs[i])))
            j = i
        nodes.sort()
        k = 0
        while k < len(nodes) - 1:
            if nodes[k] == nodes[k + 1]:
                k += 1
                continue
            if nodes[k] >= width:
                break
            if nodes[k + 1] >= 0:
                nodes[k] = max(nodes[k], 0)
                nodes[k + 1] = min(nodes[k + 1], width - 1)
                mask[py, nodes[k]:nodes[k + 1] + 1] = True
            k += 2
    return mask


def vot_overlap(region1: Seq[float], region2: Seq[float],
                bounds: tuple[float, float] | None = None) -> float:
    """
    Overlap of two regions (boxes x, y, w, h or polygons) as pysot's vot_overlap.

    bounds: (width, height) of the image, or None for no clipping. Returns a value in
    [0, 1], or NaN when both rasterised regions are empty (as the C code's 0 / 0).
    """
    p1, p2 = _as_polygon(region1), _as_polygon(region2)
    if not (np.isfinite(p1).all() and np.isfinite(p2).all()):
        return float('nan')
    if bounds is None:
        limit = [-np.inf, -np.inf, np.inf, np.inf]
    else:
        limit = [_f32(0.0), _f32(0.0), _f32(bounds[0]), _f32(bounds[1])]
    b1 = _intersect(_bounds(p1), limit)
    b2 = _intersect(_bounds(p2), limit)
    x, y = min(b1[0], b2[0]), min(b1[1], b2[1])
    width = int(_f32(max(b1[2], b2[2]) - x)) + 1
    height = int(_f32(max(b1[3], b2[3]) - y)) + 1
    a1 = float(_f32(b1[2] - b1[0]) * _f32(b1[3] - b1[1]))
    a2 = float(_f32(b2[2] - b2[0]) * _f32(b2[3] - b2[1]))
    with np.errstate(divide='ignore', invalid='ignore'):
        r12 = np.float64(a1) / np.float64(a2)
        r21 = np.float64(a2) / np.float64(a1)
    if r12 < 1e-10 or r21 < 1e-10 or width < 1 or height < 1:
        return 0.0
    if _bounds_overlap(b1, b2) == 0:
        return 0.0
    offset = np.array([x, y], dtype=_f32)
    m1 = rasterize(p1 - offset, width, height)
    m2 = rasterize(p2 - offset, width, height)
    inter = int(np.count_nonzero(m1 & m2))
    union = int(np.count_nonzero(m1 | m2))
    if union == 0:
        return float('nan')
    return float(_f32(inter) / _f32(union))
