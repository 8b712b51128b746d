# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The difficulty spec of a synthetic sequence and the effect strengths drawn from it.

A SequenceSpec holds, for every effect, a range (lo, hi). A sequence draws one strength per
effect uniformly from its range with its own seed (SequenceSpec.draw), so a spec describes a
distribution of sequences and the seed picks one. A range (x, x) fixes the strength.
photo_split ('train', 'dev' or 'test'; '' by default) makes a sequence take its natural
images only from that split of the photo pool (data/photos.py), with GrabCut cut-outs among
its targets; the default draws from the bundled images as ever.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np


class SpecError(ValueError):
    """A sequence spec with an unknown key or an out-of-range value."""


PHOTO_SPLITS = ('', 'train', 'dev', 'test')


# Bounds every range must respect: (min, max) of the effect's strength.
_BOUNDS: dict[str, tuple[float, float]] = {
    'target_size': (0.01, 0.8),
    'target_aspect': (0.2, 5.0),
    'speed': (0.0, 0.1),
    'fast_motion': (0.0, 10.0),
    'scale_change': (0.0, 1.5),
    'aspect_change': (0.0, 1.0),
    'rotation': (0.0, math.pi),
    'occlusion': (0.0, 10.0),
    'full_occlusion': (0.0, 1.0),
    'out_of_view': (0.0, 20.0),
    'out_of_view_frames': (1.0, 1000.0),
    'camera_pan': (0.0, 1.0),
    'camera_shake': (0.0, 20.0),
    'motion_blur': (0.0, 2.0),
    'illumination': (0.0, 1.0),
    'noise': (0.0, 30.0),
    'distractors': (0.0, 10.0),
    'distractor_similarity': (0.0, 1.0),
    'camouflage': (0.0, 1.0),
}

_HELP: dict[str, str] = {
    'target_size': 'target size sqrt(w*h) at scale 1, as a fraction of sqrt(W*H)',
    'target_aspect': 'target aspect ratio w/h at frame 0 (drawn log-uniformly)',
    'speed': 'typical target speed, fraction of the frame diagonal per frame',
    'fast_motion': 'fast-motion bursts per 100 frames',
    'scale_change': 'standard deviation of the log scale over time',
    'aspect_change': 'standard deviation of the log aspect ratio over time',
    'rotation': 'in-plane rotation amplitude (radians)',
    'occlusion': 'occlusion events (an occluder crosses the target) per 100 frames',
    'full_occlusion': 'probability that an occlusion event hides the whole target',
    'out_of_view': 'out-of-view episodes per 1000 frames',
    'out_of_view_frames': 'frames the target stays out of view per episode',
    'camera_pan': 'camera pan amplitude, fraction of the background margin',
    'camera_shake': 'camera shake standard deviation (pixels at 640x480)',
    'motion_blur': 'exposure time as a fraction of the frame interval (blur length / speed)',
    'illumination': 'strength of global gain/gamma drift, colour cast and local shading',
    'noise': 'sensor noise standard deviation (grey levels)',
    'distractors': 'number of look-alike distractors (rounded)',
    'distractor_similarity': 'probability that a distractor keeps the target shape',
    'camouflage': 'probability that the target texture comes from the background image',
}


def _rng_field(lo: float, hi: float) -> Any:
    return dataclasses.field(default=(lo, hi))


@dataclasses.dataclass(frozen=True)
class SequenceSpec:
    """
    Frame size, effect ranges and the photo split of a distribution of sequences.

    _HELP gives the meaning of every range; photo_split names the split of the photo pool the
    natural images come from ('' for the bundled images). Build one directly, with
    SequenceSpec.from_difficulty(level), or from a dict written to meta.json with
    SequenceSpec.from_dict (which rejects unknown keys).
    """

    width: int = 480
    height: int = 360
    target_size: tuple[float, float] = _rng_field(0.10, 0.30)
    target_aspect: tuple[float, float] = _rng_field(0.4, 2.5)
    speed: tuple[float, float] = _rng_field(0.002, 0.012)
    fast_motion: tuple[float, float] = _rng_field(0.0, 1.0)
    scale_change: tuple[float, float] = _rng_field(0.05, 0.5)
    aspect_change: tuple[float, float] = _rng_field(0.0, 0.2)
    rotation: tuple[float, float] = _rng_field(0.0, 0.8)
    occlusion: tuple[float, float] = _rng_field(0.0, 1.5)
    full_occlusion: tuple[float, float] = _rng_field(0.0, 0.5)
    out_of_view: tuple[float, float] = _rng_field(0.0, 3.0)
    out_of_view_frames: tuple[float, float] = _rng_field(10.0, 60.0)
    camera_pan: tuple[float, float] = _rng_field(0.0, 0.9)
    camera_shake: tuple[float, float] = _rng_field(0.0, 3.0)
    motion_blur: tuple[float, float] = _rng_field(0.0, 0.8)
    illumination: tuple[float, float] = _rng_field(0.0, 0.8)
    noise: tuple[float, float] = _rng_field(0.0, 6.0)
    distractors: tuple[float, float] = _rng_field(0.0, 3.0)
    distractor_similarity: tuple[float, float] = _rng_field(0.3, 0.9)
    camouflage: tuple[float, float] = _rng_field(0.0, 0.3)
    photo_split: str = ''

    def __post_init__(self) -> None:
        for name in ('width', 'height'):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 32 <= v <= 4096:
                raise SpecError(f'{name}: expected an integer in [32, 4096], got {v!r}')
        if self.photo_split not in PHOTO_SPLITS:
            raise SpecError(f'photo_split: expected one of {PHOTO_SPLITS}, got '
                            f'{self.photo_split!r}')
        for name, (bmin, bmax) in _BOUNDS.items():
            v = getattr(self, name)
            if (not isinstance(v, (tuple, list)) or len(v) != 2
                    or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                               for x in v)):
                raise SpecError(f'{name}: expected a range [lo, hi] of numbers, got {v!r}')
            lo, hi = float(v[0]), float(v[1])
            if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
                raise SpecError(f'{name}: range [{lo}, {hi}] is empty or not finite')
            if lo < bmin or hi > bmax:
                raise SpecError(f'{name}: range [{lo}, {hi}] leaves the allowed [{bmin}, {bmax}]'
                                f' ({_HELP[name]})')
            object.__setattr__(self, name, (lo, hi))

    @classmethod
    def from_difficulty(cls, level: float, **overrides: Any) -> SequenceSpec:
        """
        Spec whose ranges sit at a difficulty level in [0, 1] of the default ranges.

        Level 0 puts every effect at the easy end of the default range, level 1 spans the
        upper half. Overrides (width, height or any range) replace fields afterwards.
        """
        if not 0.0 <= level <= 1.0:
            raise SpecError(f'difficulty level must be in [0, 1], got {level!r}')
        base = cls()
        ranges = {}
        for name in _BOUNDS:
            if name in ('target_size', 'target_aspect', 'out_of_view_frames',
                        'distractor_similarity'):
                continue
            lo, hi = getattr(base, name)
            ranges[name] = (lo + (hi - lo) * level * 0.5, lo + (hi - lo) * level)
        ranges.update(overrides)
        return dataclasses.replace(base, **ranges)

    def to_dict(self) -> dict[str, Any]:
        """
        JSON-ready dict (ranges as lists).

        photo_split appears only when set, so specs written before it existed still match.
        """
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()
                if k != 'photo_split' or v}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SequenceSpec:
        """Inverse of to_dict; unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise SpecError(f'unknown sequence spec key(s) {unknown}; known: {sorted(known)}')
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def draw(self, rng: np.random.Generator) -> dict[str, float]:
        """One strength per effect, drawn uniformly from its range (aspect log-uniformly)."""
        out = {}
        for name in _BOUNDS:
            lo, hi = getattr(self, name)
            if name == 'target_aspect':
                out[name] = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            else:
                out[name] = float(rng.uniform(lo, hi))
        out['distractors'] = float(round(out['distractors']))
        return out


def spec_help() -> dict[str, str]:
    """Meaning of every range field."""
    return dict(_HELP)
