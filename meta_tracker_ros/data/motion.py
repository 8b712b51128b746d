# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Trajectory planning for the generator: smooth random signals and steered 2-D paths.

All paths are planned once per sequence (a few arrays of length num_frames), so any frame
can be rendered on its own, in any order, from the plan.
"""

from __future__ import annotations

import math

import numpy as np


def smooth_noise(rng: np.random.Generator, n: int, spacing: float, dims: int = 1
                 ) -> np.ndarray:
    """
    Draw an (n, dims) smooth random signal with about unit amplitude.

    A Catmull-Rom spline through N(0, 1) knots placed every `spacing` frames.
    """
    spacing = max(float(spacing), 1.0)
    k = int(math.ceil(n / spacing)) + 3
    vals = rng.standard_normal((k + 1, dims))
    t = np.arange(n) / spacing + 1.0
    j = t.astype(np.int64)
    u = (t - j)[:, None]
    p0, p1, p2, p3 = vals[j - 1], vals[j], vals[j + 1], vals[j + 2]
    return 0.5 * (2 * p1 + (p2 - p0) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u ** 2
                  + (3 * p1 - p0 - 3 * p2 + p3) * u ** 3)


def line_kernel(length: float, angle: float) -> np.ndarray:
    """
    Normalised motion-blur kernel: a centred segment of `length` pixels along `angle`.

    The kernel is symmetric about its centre, so blurring does not shift an object.
    """
    size = int(math.ceil(length)) | 1
    k = np.zeros((size, size), np.float32)
    c = size // 2
    n = max(2, int(length * 4))
    t = np.linspace(-(length - 1) / 2.0, (length - 1) / 2.0, n)
    xs = c + t * math.cos(angle)
    ys = c + t * math.sin(angle)
    x0 = np.floor(xs).astype(int)
    y0 = np.floor(ys).astype(int)
    fx = xs - x0
    fy = ys - y0
    for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                      (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(k, (np.clip(y0 + dy, 0, size - 1), np.clip(x0 + dx, 0, size - 1)), w)
    return k / k.sum()


def _inner_point(rng: np.random.Generator, w: int, h: int, r: float) -> tuple[float, float]:
    """Random point where a disc of radius r lies well inside the frame."""
    lo_x, hi_x = 0.15 * w + r, 0.85 * w - r
    lo_y, hi_y = 0.15 * h + r, 0.85 * h - r
    x = rng.uniform(lo_x, hi_x) if lo_x < hi_x else w / 2.0
    y = rng.uniform(lo_y, hi_y) if lo_y < hi_y else h / 2.0
    return float(x), float(y)


def _step(p: list[float], v: list[float], goal: tuple[float, float], vcap: float,
          resp: float, amax: float, noise: np.ndarray) -> None:
    """One step of a steered point: accelerate towards the goal, limited, plus noise."""
    dx, dy = goal[0] - p[0], goal[1] - p[1]
    d = math.hypot(dx, dy) + 1e-9
    s = min(vcap, 0.08 * d + 0.1 * vcap)
    ax = (dx / d * s - v[0]) * resp + float(noise[0])
    ay = (dy / d * s - v[1]) * resp + float(noise[1])
    an = math.hypot(ax, ay)
    if an > amax:
        ax, ay = ax * amax / an, ay * amax / an
    v[0] += ax
    v[1] += ay
    p[0] += v[0]
    p[1] += v[1]


def _poisson_times(rng: np.random.Generator, rate: float, lo: int, hi: int) -> list[int]:
    if hi <= lo or rate <= 0:
        return []
    k = int(rng.poisson(rate * (hi - lo)))
    return sorted(int(t) for t in rng.integers(lo, hi, k))


def plan_target(rng: np.random.Generator, n: int, width: int, height: int,
                radius: np.ndarray, speed: float, fast_rate: float, ov_rate: float,
                ov_frames: float, margin: float, quiet: int = 15) -> np.ndarray:
    """
    Plan the target centre (n, 2) in image pixels.

    A steered path with goal changes, fast-motion bursts and out-of-view episodes.

    radius: (n,) radius of a disc holding the whole target at each frame.
    speed: typical speed in px/frame; fast_rate: bursts per frame; ov_rate: episodes per
    frame, each keeping the target fully out of the frame for about ov_frames frames;
    margin: extra distance (px) beyond the frame edge that counts as fully out.
    No event starts in the first `quiet` frames, so frame 0 shows the target clearly.
    """
    diag = math.hypot(width, height)
    vmax = speed * np.exp(0.4 * smooth_noise(rng, n, rng.uniform(30, 90))[:, 0])
    noise = smooth_noise(rng, n, 6, 2) * (0.08 * vmax[:, None])
    fast_starts = set(_poisson_times(rng, fast_rate, quiet, n - 5))
    ov_starts = set(_poisson_times(rng, ov_rate, quiet + 5, n - 10))
    p = list(_inner_point(rng, width, height, float(radius[0])))
    ang0 = rng.uniform(0, 2 * math.pi)
    v = [0.5 * vmax[0] * math.cos(ang0), 0.5 * vmax[0] * math.sin(ang0)]
    goal = _inner_point(rng, width, height, float(radius[0]))
    goal_until = int(rng.integers(25, 100))
    mode, mode_left, out_frames, ov_len = 'normal', 0, 0, 0
    burst = 1.0
    center = np.empty((n, 2))
    for t in range(n):
        center[t] = p
        r = float(radius[t])
        if mode == 'normal' and t in ov_starts:
            mode, out_frames = 'exit', 0
            ov_len = max(1, int(round(ov_frames * rng.uniform(0.5, 1.5))))
            dists = (p[0], width - p[0], p[1], height - p[1])
            side = int(np.argmin(dists))
            off = r + margin + 0.05 * diag
            goal = ((-off, p[1]), (width + off, p[1]), (p[0], -off), (p[0], height + off))[side]
        elif mode == 'normal' and t in fast_starts:
            mode, mode_left = 'fast', int(rng.integers(5, 16))
            cands = [_inner_point(rng, width, height, r) for _ in range(6)]
            goal = max(cands, key=lambda g: math.hypot(g[0] - p[0], g[1] - p[1]))
            burst = max(float(rng.uniform(3, 6)), 0.03 * diag / max(float(vmax[t]), 1e-6))
        if mode == 'exit':
            gone = (p[0] + r + margin < 0 or p[0] - r - margin > width
                    or p[1] + r + margin < 0 or p[1] - r - margin > height)
            out_frames += gone
            if out_frames >= ov_len:  # re-enter from a random side, heading inwards
                side = int(rng.integers(4))
                off = r + margin + 1.0
                ex, ey = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
                p[:] = ((-off, ey), (width + off, ey), (ex, -off), (ex, height + off))[side]
                goal = _inner_point(rng, width, height, r)
                d = math.hypot(goal[0] - p[0], goal[1] - p[1]) + 1e-9
                s = max(float(vmax[t]), 0.004 * diag)
                v[:] = [(goal[0] - p[0]) / d * s, (goal[1] - p[1]) / d * s]
                mode, goal_until = 'normal', t + int(rng.integers(25, 100))
                continue
            vcap = max(float(vmax[t]), 0.008 * diag)
            _step(p, v, goal, vcap, 0.15, 0.3 * vcap, noise[t])
        elif mode == 'fast':
            vcap = float(vmax[t]) * burst
            _step(p, v, goal, vcap, 0.5, 0.5 * vcap, noise[t])
            mode_left -= 1
            if mode_left <= 0:
                mode, goal_until = 'normal', t
        else:
            if t >= goal_until or math.hypot(goal[0] - p[0], goal[1] - p[1]) < 5 * vmax[t]:
                goal = _inner_point(rng, width, height, r)
                goal_until = t + int(rng.integers(25, 100))
            vcap = float(vmax[t])
            _step(p, v, goal, vcap, 0.15, 0.25 * vcap, noise[t])
    return center


def plan_wander(rng: np.random.Generator, n: int, width: int, height: int, start: tuple,
                around: np.ndarray, reach: float, speed: float) -> np.ndarray:
    """
    (n, 2) path that wanders around the points `around` (n, 2) within `reach` pixels.

    Distractors use it to stay near the target without following it exactly.
    """
    vmax = speed * np.exp(0.4 * smooth_noise(rng, n, rng.uniform(30, 90))[:, 0])
    noise = smooth_noise(rng, n, 6, 2) * (0.08 * vmax[:, None])
    p = [float(start[0]), float(start[1])]
    v = [0.0, 0.0]
    out = np.empty((n, 2))
    goal, goal_until = (p[0], p[1]), 0
    for t in range(n):
        out[t] = p
        if t >= goal_until:
            a = rng.uniform(0, 2 * math.pi)
            d = reach * rng.uniform(0.3, 1.0)
            goal = (float(np.clip(around[t, 0] + d * math.cos(a), 0, width)),
                    float(np.clip(around[t, 1] + d * math.sin(a), 0, height)))
            goal_until = t + int(rng.integers(20, 80))
        _step(p, v, goal, float(vmax[t]), 0.15, 0.25 * float(vmax[t]), noise[t])
    return out
