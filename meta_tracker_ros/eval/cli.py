# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""
meta-tracker-eval: run trackers over a dataset, score them, write a report.

  meta-tracker-eval --trackers opencv_csrt opencv_kcf --dataset synth:synth-test \\
      --out results/ [--weights NAME=PATH ...] [--config NAME=cfg.yaml ...] [--jobs N] \\
      [--max-seqs K] [--sequences S ...] [--device cpu] [--vot]

Results go to <out>/<tracker>/ (resumable: finished sequences are skipped), the report
to <out>/report.md, <out>/metrics.json and <out>/plots/. A config file is either a plain
mapping of the tracker's config keys or a node parameter file (config/<tracker>.yaml,
'/**: ros__parameters:') whose '<tracker>:' section is used.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
from typing import Any, Sequence as Seq

from meta_tracker_ros.core.config import ConfigError
from meta_tracker_ros.core.registry import available_trackers
from meta_tracker_ros.core.weights import WeightsError
from meta_tracker_ros.eval.datasets import load_dataset
from meta_tracker_ros.eval.metrics import POLICIES, VOT_EAO_INTERVALS
from meta_tracker_ros.eval.readers.common import DatasetError
from meta_tracker_ros.eval.report import write_report
from meta_tracker_ros.eval.runner import run_tracker, TrackerSpec
import yaml


def load_config_file(path: str | Path, tracker: str) -> dict[str, Any]:
    """Read a tracker config mapping from a plain YAML mapping or a ROS parameter file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f'cannot read config file {path}: {exc}') from exc
    if not isinstance(data, dict):
        raise ConfigError(f'{path}: expected a mapping of config keys')
    node = next((v for k, v in data.items() if isinstance(v, dict) and 'ros__parameters' in v),
                None)
    if node is not None:
        params = node['ros__parameters'] or {}
        section = dict(params.get(tracker) or {})
        prefix = f'{tracker}.'
        section.update({k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)})
        return section
    return data


def _pairs(items: Seq[str], what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, sep, value = item.partition('=')
        if not sep or not name or not value:
            raise ConfigError(f'--{what} takes NAME=VALUE, got {item!r}')
        out[name] = value
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='meta-tracker-eval', description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--trackers', nargs='+', required=True,
                   help='registered tracker names')
    p.add_argument('--dataset', required=True,
                   help='otb:/p, uav123:/p, uav20l:/p, lasot:/p[:test], got10k:/p[:val], '
                        'vot:/p, vid:/p[:val], synth:<suite> or synthdir:/p')
    p.add_argument('--out', required=True, type=Path, help='results and report folder')
    p.add_argument('--weights', nargs='*', default=[], metavar='NAME=PATH',
                   help='weights file per tracker')
    p.add_argument('--config', nargs='*', default=[], metavar='NAME=YAML',
                   help='config file per tracker')
    p.add_argument('--device', default='cpu', help='cpu, cuda or auto')
    p.add_argument('--jobs', type=int, default=1, help='sequences run in parallel processes')
    p.add_argument('--max-seqs', type=int, default=None, help='only the first K sequences')
    p.add_argument('--sequences', nargs='*', default=None, help='only these sequences')
    p.add_argument('--seed', type=int, default=0, help='seed set before every sequence')
    p.add_argument('--vot', action='store_true',
                   help='reset-based VOT protocol (accuracy, robustness, EAO) instead of OPE')
    p.add_argument('--eao-interval', nargs=2, type=int, metavar=('LOW', 'HIGH'),
                   default=list(VOT_EAO_INTERVALS['VOT2016']),
                   help='EAO sequence-length interval (default: VOT2016, 108 371)')
    p.add_argument('--invalid-frames', choices=POLICIES, default=None,
                   help='scoring of frames without usable ground truth (default: what '
                        'the benchmark toolkit does: otb/uav/vot otb, lasot fail, others '
                        'exclude)')
    p.add_argument('--no-progress', action='store_true', help='no progress bars')
    return p


def main(argv: Seq[str] | None = None) -> int:
    """Console entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        unknown = [t for t in args.trackers if t not in available_trackers()]
        if unknown:
            raise ConfigError(f'unknown tracker(s) {", ".join(unknown)}; available: '
                              f'{", ".join(available_trackers())}')
        weights = _pairs(args.weights, 'weights')
        configs = _pairs(args.config, 'config')
        for name in [*weights, *configs]:
            if name not in args.trackers:
                raise ConfigError(f'--weights/--config given for {name!r}, which is not in '
                                  f'--trackers')
        seqs = load_dataset(args.dataset)
        if args.sequences:
            missing = sorted(set(args.sequences) - {s.name for s in seqs})
            if missing:
                raise DatasetError(f'sequences not in {args.dataset}: {", ".join(missing)}')
            seqs = [s for s in seqs if s.name in set(args.sequences)]
        if args.max_seqs is not None:
            seqs = seqs[:args.max_seqs]
        protocol = 'vot' if args.vot else 'ope'
        dirs = []
        for name in args.trackers:
            config = load_config_file(configs[name], name) if name in configs else {}
            spec = TrackerSpec(name, config, weights.get(name), args.device, args.seed)
            dirs.append(run_tracker(spec, seqs, args.out, protocol=protocol, jobs=args.jobs,
                                    progress=not args.no_progress))
        metrics = write_report(args.out, args.dataset, seqs, dirs, protocol=protocol,
                               policy=args.invalid_frames,
                               eao_interval=tuple(args.eao_interval))
    except (ConfigError, WeightsError, DatasetError, RuntimeError) as exc:
        print(f'meta-tracker-eval: error: {exc}', file=sys.stderr)
        return 2
    for name, m in metrics['trackers'].items():
        if protocol == 'vot':
            v = m['vot']
            print(f'{name}: accuracy {v["accuracy"]:.3f}  robustness {v["robustness"]:.3f}  '
                  f'lost {v["lost"]}  EAO {v["eao"]:.3f}')
        else:
            s = m['summary']
            print(f'{name}: AUC {s["auc"]:.3f}  P@20 {s["p20"]:.3f}  '
                  f'NormP {s["norm_p20"]:.3f}  AO {s["ao"]:.3f}  fps {s["fps"]:.1f}')
    print(f'report: {args.out / "report.md"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
