# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Paired per-sequence AUC differences between trackers of different reports.

    python -m meta_tracker_ros.eval.compare A/metrics.json:mlt B/metrics.json:mlt [...]
        [--margin 0.02] [--label NAME ...]

A report's own "Paired differences" section compares the trackers of one evaluation run.
This compares runs made at different times (new weights against the committed report of the
old ones, say) from their metrics.json files alone, on the sequences both scored: the same
statistic (eval.metrics.paired_difference: mean, standard error, wins and losses beyond the
margin), printed as a Markdown table for every pair in the order given.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import itertools
import json
from pathlib import Path
import sys
from typing import Any

from meta_tracker_ros.eval.metrics import paired_difference


@dataclass(frozen=True)
class ReportedRun:
    """One tracker's per-sequence scores read from a metrics.json."""

    label: str
    auc: float
    per_sequence: dict[str, dict[str, Any]]


def read_run(spec: str, label: str | None = None) -> ReportedRun:
    """Read 'path/metrics.json:tracker' (ValueError naming what is missing)."""
    path, sep, tracker = spec.rpartition(':')
    if not sep or not path or not tracker:
        raise ValueError(f'{spec!r}: expected PATH/metrics.json:TRACKER')
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f'{path}: {exc}') from None
    trackers = doc.get('trackers', {})
    if tracker not in trackers:
        raise ValueError(f'{path} has no tracker {tracker!r}; it has {sorted(trackers)}')
    summary = trackers[tracker]['summary']
    return ReportedRun(label or f'{tracker} ({Path(path).parent.name})', summary['auc'],
                       summary['per_sequence'])


def compare(runs: list[ReportedRun], margin: float = 0.02) -> list[dict[str, Any]]:
    """Return paired_difference of every pair (a, b) with a listed before b."""
    rows = []
    for a, b in itertools.combinations(runs, 2):
        rows.append({'a': a.label, 'b': b.label, **paired_difference(a, b, margin)})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.strip().split('\n')[0])
    p.add_argument('runs', nargs='+', help='PATH/metrics.json:TRACKER, two or more')
    p.add_argument('--label', action='append', default=[], help='a name per run, in order')
    p.add_argument('--margin', type=float, default=0.02)
    ns = p.parse_args(argv)
    if len(ns.runs) < 2 or (ns.label and len(ns.label) != len(ns.runs)):
        p.error('give two or more runs, and either no --label or one per run')
    try:
        runs = [read_run(s, ns.label[i] if ns.label else None) for i, s in enumerate(ns.runs)]
    except ValueError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    print('| a | b | sequences | mean AUC a - b | standard error | a better | b better |')
    print('|---|---|---|---|---|---|---|')
    for r in compare(runs, ns.margin):
        print(f'| {r["a"]} | {r["b"]} | {r["sequences"]} | {r["mean"]:+.4f} | '
              f'{r["standard_error"]:.4f} | {r["better"]} | {r["worse"]} |')
    for run in runs:
        print(f'{run.label}: mean AUC {run.auc:.4f} over {len(run.per_sequence)} sequences')
    return 0


if __name__ == '__main__':
    sys.exit(main())
