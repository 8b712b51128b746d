# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The held-out score that chooses a training run's stopping point: tracking AUC.

A lower training loss did not track better in earlier runs (README, stage-1 experiments),
so a stage keeps the weights that TRACK best on validation sequences: the first frames of
synth-dev and photo-dev entries (tuning suites, never a test suite), run by the real tracker
from a weights file of the current network, with the lost state off (the score measures the
matching; the lost state is calibrated afterwards). The stage's starting point is scored
first, so with `init: reference` a run whose training never beats the untrained reference
returns the reference itself: training can only add.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import tempfile
from typing import Any

from meta_tracker_ros.core.registry import build_tracker
from meta_tracker_ros.core.weights import save_weights
from meta_tracker_ros.eval.metrics import evaluate_ope
from meta_tracker_ros.eval.runner import track_ope
from meta_tracker_ros.eval.sequence import Sequence
import numpy as np
import torch

VALIDATION_SUITES = ('synth-dev', 'photo-dev')
# Suites validation may read: the tuning suites and the tiny one of the tests and demo.
ALLOWED_SUITES = VALIDATION_SUITES + ('synth-mini',)
SELECTIONS = ('worst_gain', 'mean')
# The tracker's search with the lost state off: peaks never fall below 0 and the relative
# test is off.
LOST_OFF = {'lost_threshold': 0.0, 'lost_ratio': 0.0}


@dataclass(frozen=True)
class ValidationConfig:
    """
    Which sequences validate a stage, how often, and with which tracker.

    suites: tuning suites to draw from; sequences: entries 0..n-1 of each; frames: the first
    frames of each entry; every_minutes: time between validations (0 = only at the start
    and the end); tracker: the registry name that runs them (mlt_mt for stage 1, mlt for 2);
    options: tracker config values on top of the lost state off and float32;
    select: what the kept weights maximise: 'worst_gain' (the default), the smallest gain
    over the suites against the stage's first validation, so a network that gains on
    synth-dev by losing on photo-dev's unseen photographs is never kept over its start, or
    'mean', the mean AUC (session 9's first run: synth-dev 0.464 -> 0.673 while photo-dev
    went 0.495 -> 0.451, which the mean would have kept).
    """

    suites: tuple[str, ...] = VALIDATION_SUITES
    sequences: int = 8
    frames: int = 150
    every_minutes: float = 8.0
    tracker: str = 'mlt_mt'
    options: dict[str, Any] = field(default_factory=dict)
    select: str = 'worst_gain'

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> ValidationConfig | None:
        """Parse a mapping; None when empty (no validation: the last weights are kept)."""
        if not values:
            return None
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f'unknown validation key(s) {unknown}; valid: {sorted(known)}')
        v = dict(values)
        if 'suites' in v:
            v['suites'] = tuple(v['suites'])
        out = cls(**v)
        bad = [s for s in out.suites if s not in ALLOWED_SUITES]
        if bad:
            raise ValueError(f'validation reads only tuning suites {ALLOWED_SUITES}, got '
                             f'{bad}')
        if out.select not in SELECTIONS:
            raise ValueError(f'select must be one of {SELECTIONS}, got {out.select!r}')
        if out.sequences < 1 or out.frames < 2:
            raise ValueError('validation needs sequences >= 1 and frames >= 2')
        return out


def truncate(seq: Sequence, frames: int) -> Sequence:
    """Cut a sequence to its first `frames` frames (ground truth and per-frame flags too)."""
    n = min(frames, len(seq))
    attrs = {k: v[:n] if isinstance(v, np.ndarray) and v.shape[:1] == (len(seq),) else v
             for k, v in seq.attributes.items()}
    return Sequence(seq.name, seq.frames[:n], seq.gt[:n], seq.absent[:n], attrs,
                    None if seq.masks is None else seq.masks[:n], seq.one_based, seq.meta)


def validation_sequences(cfg: ValidationConfig, jobs: int = 1) -> list[Sequence]:
    """Read entries 0..n-1 of each suite (written once to the data folder), cut short."""
    from meta_tracker_ros.data.suites import ensure_suite
    from meta_tracker_ros.eval.readers.synthetic import read_synthetic_sequence

    out = []
    for suite in cfg.suites:
        folder = ensure_suite(suite, jobs=jobs)
        names = (folder / 'list.txt').read_text().split()[:cfg.sequences]
        out += [truncate(read_synthetic_sequence(folder / n), cfg.frames) for n in names]
    return out


def selection_score(scores: dict[str, float], first: dict[str, float], select: str) -> float:
    """
    Return the number a stage maximises: the mean AUC, or the worst per-suite gain.

    scores and first: validation_auc results (now, and at the stage's first validation).
    """
    if select == 'mean':
        return scores['auc']
    suites = [k for k in scores if k.startswith('auc_')]
    return min(scores[k] - first[k] for k in suites)


def validation_auc(state: dict[str, torch.Tensor], model_args: dict[str, Any],
                   cfg: ValidationConfig, sequences: list[Sequence],
                   stages: list[int], family: str = 'mlt') -> dict[str, float]:
    """
    Track the validation sequences with a network state; mean AUC per suite and overall.

    The state goes through a real weights file, so the tracker runs exactly what the stage
    would write.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'validation.safetensors'
        save_weights(path, state, tracker=family, model_args=model_args,
                     training_config={}, info={'trained_stages': stages})
        # float32 for MLT (its int8 backbone is calibrated per process).
        options = {**({'quantize': False} if family == 'mlt' else {}), **LOST_OFF, **cfg.options}
        tracker = build_tracker(cfg.tracker, options, path)
        aucs: dict[str, list[float]] = {}
        for seq in sequences:
            run = track_ope(tracker, seq)
            suite = str(seq.meta.get('suite', seq.name.rsplit('-', 1)[0]))
            aucs.setdefault(suite, []).append(evaluate_ope(seq, run.boxes).auc)
    out = {f'auc_{k}': float(np.mean(v)) for k, v in aucs.items()}
    out['auc'] = float(np.mean([a for v in aucs.values() for a in v]))
    return out
