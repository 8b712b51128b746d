# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Speed of the meta-learned trackers on one CPU: first-frame adaptation and per-frame time.

Retina-MAML and FCOS-MAML with and without online updates, TrackMLP with and without its
first-frame adaptation (20 steps on 40 augmentations; the per-frame time includes the mask),
MetaSDNet and its pyMDNet-01 / -15 baselines, MetaCREST and CREST-05 (paper 001's Table 2
trackers; CREST-k takes no weights file).

Runs each (tracker, threads) over the first frames of a synth-test sequence at 640x480
(rendered into memory before timing), with and without online updates, and prints the domain
adaptation time of the first frame (init_ms: the support set's crops, features and 5 inner
steps), the per-frame median / mean / p90 / max milliseconds, the fps of the median and the
mean time of the frames that ran an update. JSON report with versions, configs and weights.

    .venv/bin/python benchmarks/bench_maml_speed.py [--frames 300] [--threads 1 2] \
        [--families fcos_maml metacrest ...] [--weights metacrest=FILE ...] \
        [--out benchmarks/results/bench_maml_speed.json]

Without a weights file for a family (before its training), a randomly initialised detector
of the committed configuration's shapes is timed: the same operations run, but the lost state
is off (lost_threshold 0) so that an untrained score map does not change what is computed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
import tempfile

from meta_tracker_ros.core.models.maml_detector import DetectorArgs, InnerArgs, MAMLDetectorNet
from meta_tracker_ros.core.models.metacrest import MetaCRESTArgs, MetaCRESTInnerArgs, MetaCRESTNet
from meta_tracker_ros.core.models.metasdnet import MetaSDNetArgs, MetaSDNetInnerArgs, MetaSDNetNet
from meta_tracker_ros.core.models.trackmlp import TrackMLPArgs, TrackMLPInnerArgs, TrackMLPNet
from meta_tracker_ros.core.registry import get_entry
from meta_tracker_ros.core.weights import save_weights, sha256_file
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mlt_speed import load_frames, time_tracker, write_report  # noqa: E402, I100

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ('fcos_maml', 'retina_maml', 'trackmlp', 'metasdnet', 'pymdnet', 'metacrest')
# Each family's trackers, timed in turn: the full one and its ablation without adaptation.
VARIANTS = {'fcos_maml': ('fcos_maml', 'fcos_maml_noupdate'),
            'retina_maml': ('retina_maml', 'retina_maml_noupdate'),
            'trackmlp': ('trackmlp', 'trackmlp_noadapt'),
            'metasdnet': ('metasdnet',), 'pymdnet': ('pymdnet_01', 'pymdnet_15'),
            'metacrest': ('metacrest', 'crest_05')}


def random_weights(folder: Path, family: str) -> Path:
    """Write a randomly initialised network of the training config's shapes (timing only)."""
    torch.manual_seed(0)
    if family == 'trackmlp':
        net = TrackMLPNet(TrackMLPArgs(channels=64, generator_hidden=256), TrackMLPInnerArgs())
    elif family in ('metasdnet', 'pymdnet'):
        net = MetaSDNetNet(MetaSDNetArgs(), MetaSDNetInnerArgs(
            lr_mode='parameter' if family == 'metasdnet' else 'fixed'))
        family = 'metasdnet'
    elif family == 'metacrest':
        net = MetaCRESTNet(MetaCRESTArgs(), MetaCRESTInnerArgs())
    else:
        net = MAMLDetectorNet(DetectorArgs(head=family.split('_')[0], channels=64,
                                           head_convs=1), InnerArgs())
    return save_weights(folder / f'{family}_random.safetensors', net.state_dict(),
                        tracker=family, model_args=net.model_args(),
                        info={'note': 'random, for timing only'})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('--weights', nargs='*', default=[], metavar='FAMILY=PATH',
                   help='weights per family (default: weights/<family>.safetensors if '
                        'committed, else a random detector of the same shapes)')
    p.add_argument('--families', nargs='+', choices=FAMILIES, default=list(FAMILIES))
    p.add_argument('--frames', type=int, default=300)
    p.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    p.add_argument('--sequence', type=int, default=0, help='synth-test entry')
    p.add_argument('--out', type=Path, default=ROOT / 'benchmarks' / 'results'
                   / 'bench_maml_speed.json')
    ns = p.parse_args(argv)
    given = dict(item.split('=', 1) for item in ns.weights)

    sequence, frames, box = load_frames(ns.sequence, ns.frames)

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for family in ns.families:
            committed = ROOT / 'weights' / f'{family}.safetensors'
            weights = Path(given[family]) if family in given else \
                committed if committed.is_file() else random_weights(Path(tmp), family)
            random = weights.parent == Path(tmp)
            config = {'lost_threshold': 0.0} if random else {}
            for threads in ns.threads:
                for name in VARIANTS[family]:
                    # CREST-k builds its filter from the ImageNet features alone.
                    own = weights if get_entry(name).needs_weights else None
                    r = time_tracker(name, own, frames, box, threads, config)
                    r.update(weights='none' if own is None else 'random' if random
                             else str(weights),
                             weights_sha256=sha256_file(own) if own else None)
                    runs.append(r)
                    print(f'{name:20s} threads={threads} adaptation {r["init_ms"]:7.1f} ms  '
                          f'median {r["median_ms"]:6.1f} ms ({r["fps_median"]:5.1f} fps)  '
                          f'mean {r["mean_ms"]:6.1f}  p90 {r["p90_ms"]:6.1f}  '
                          f'max {r["max_ms"]:6.1f}  update frames {r["update_frame_ms"]}',
                          flush=True)
    write_report(ns.out, 'bench_maml_speed', sequence, frames, runs, argv)
    return 0


if __name__ == '__main__':
    sys.exit(main())
