# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Table 2 of Meta-Tracker (paper 001): how good is the first frame's model, and how fast.

For each tracker and each sequence's first frame: the loss of the model before the first
frame's training (B), after it (A), and on the next `lookahead` frames (LH: each cut around
the previous frame's true box, the search a tracker right on the previous frame makes),
with the wall-clock time of initialize() on this CPU (features, steps, everything).
Correlation trackers (metacrest, crest_k) report CREST's loss (eq. 6), lower is better;
MDNet's (metasdnet, pymdnet_k) the accuracy on 32 positive and 96 negative patches of each
frame (MDNet's sampling, around the frame's true box), higher is better (all-background is
0.75).

    .venv/bin/python benchmarks/meta_init.py --trackers metacrest crest_01 crest_05 crest_10 \
        --dataset synth:synth-dev --sequences 25 [--set crest_05.crest_lr=0.01] \
        [--weights metacrest=FILE] [--threads 1] [--out FILE.json]

Per tracker: mean and standard error over the sequences of B, A, LH and the time; the
JSON report (versions, configs, per-sequence values) goes to --out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
import time
from typing import Any

from meta_tracker_ros.core.registry import build_tracker
from meta_tracker_ros.core.types import Box
from meta_tracker_ros.eval.datasets import load_dataset
import numpy as np
import torch
from tqdm import tqdm
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mlt_speed import environment  # noqa: E402, I100


def _options(items: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition('=')
        name, dot, option = key.partition('.')
        if not sep or not dot:
            raise SystemExit(f'--set needs tracker.option=value, got {item!r}')
        out.setdefault(name, {})[option] = yaml.safe_load(value)
    return out


def measure(tracker, seq, lookahead: int) -> dict[str, float] | None:
    """B, A, LH and the init time on one sequence's first frame (None: too short)."""
    first = seq.init_index()
    frames = [i for i in range(first + 1, min(len(seq), first + 1 + lookahead))
              if not seq.absent[i]]
    if not frames:
        return None
    image = seq.load_image(first)
    box = Box(*seq.gt[first])
    t0 = time.perf_counter()
    tracker.initialize(image, box)
    init = time.perf_counter() - t0
    if hasattr(tracker, 'patch_metrics'):               # MDNet's: patch accuracy
        def value(img, b, around, weights=None):
            return tracker.patch_metrics(img, b, weights)['accuracy']
    else:                                               # CREST's: eq. 6 on the response
        def value(img, b, around, weights=None):
            return tracker.loss_at(img, b, around, weights)
    before = value(image, box, box, tracker.first_weights)
    after = value(image, box, box)
    ahead = [value(seq.load_image(i), Box(*seq.gt[i]), Box(*seq.gt[i - 1])) for i in frames]
    return {'B': before, 'A': after, 'LH': float(np.mean(ahead)), 'init_s': init}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('--trackers', nargs='+', required=True)
    p.add_argument('--dataset', required=True, help='e.g. synth:synth-dev, synthdir:DIR')
    p.add_argument('--sequences', type=int, default=150)
    p.add_argument('--lookahead', type=int, default=5)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--set', action='append', default=[], metavar='TRACKER.OPTION=VALUE')
    p.add_argument('--weights', nargs='*', default=[], metavar='TRACKER=PATH')
    p.add_argument('--out', type=Path, default=None)
    ns = p.parse_args(argv)
    torch.set_num_threads(ns.threads)
    options = _options(ns.set)
    weights = dict(item.split('=', 1) for item in ns.weights)
    sequences = load_dataset(ns.dataset)[:ns.sequences]
    report: dict[str, Any] = {'benchmark': 'meta_init', 'dataset': ns.dataset,
                              'sequences': len(sequences), 'lookahead': ns.lookahead,
                              'environment': environment(argv), 'trackers': {}}
    for name in ns.trackers:
        tracker = build_tracker(name, options.get(name), weights.get(name))
        rows = {}
        for seq in tqdm(sequences, desc=name, mininterval=5.0, file=sys.stdout):
            row = measure(tracker, seq, ns.lookahead)
            if row is not None:
                rows[seq.name] = row
        summary = {}
        for k in ('B', 'A', 'LH', 'init_s'):
            v = np.array([r[k] for r in rows.values()])
            summary[k] = {'mean': float(v.mean()), 'se': float(v.std(ddof=1) / np.sqrt(len(v)))
                          if len(v) > 1 else 0.0}
        report['trackers'][name] = {'config': tracker.config.to_dict(), 'weights':
                                    weights.get(name), 'summary': summary, 'per_sequence': rows}
        print(f'{name:12s} B {summary["B"]["mean"]:.4f}  A {summary["A"]["mean"]:.4f} '
              f'({summary["A"]["se"]:.4f})  LH {summary["LH"]["mean"]:.4f} '
              f'({summary["LH"]["se"]:.4f})  init {summary["init_s"]["mean"] * 1000:.0f} ms  '
              f'[{len(rows)} sequences]', flush=True)
    if ns.out:
        ns.out.parent.mkdir(parents=True, exist_ok=True)
        ns.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
