# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Speed of the mlt trackers on one CPU: per-frame update time at 640x480.

Runs each (tracker, backbone, threads) combination over the first frames of a synth-test
sequence (rendered into memory before timing; the meta-learner's updates every T frames are
included in the per-frame times), prints median / mean / p90 / max milliseconds and the fps of
the median, and writes a JSON report with versions, configs and the weights' sha256. Frames
searched in the lost state run one scale instead of three, so the count of those frames and
the median of the others are reported too.

    .venv/bin/python benchmarks/bench_mlt_speed.py [--frames 300] [--threads 1 2] \
        [--precision float32 int8] [--out benchmarks/results/bench_mlt_speed.json]

int8 is the trackers' quantize parameter (the backbone quantised after training, calibrated at
load); its build time is not in the per-frame figures.

The alexnet_mlt backbone has no committed weights (its meta-learner alone is 100 MB); its
speed is measured with a randomly initialised network of the paper's shapes, which runs the
same operations.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import platform
import subprocess
import sys
import tempfile
import time
from typing import Any

import cv2
from meta_tracker_ros import __version__
from meta_tracker_ros.core.models.mlt import MLTModelArgs, MLTNet
from meta_tracker_ros.core.registry import build_tracker
from meta_tracker_ros.core.types import Box, TrackState
from meta_tracker_ros.core.weights import save_weights, sha256_file
from meta_tracker_ros.data.suites import get_suite
import numpy as np
import torch
import torchvision

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WEIGHTS = ROOT / 'weights' / 'mlt_mobilenet_v2.safetensors'


def _cpu_model() -> str:
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git_commit() -> str | None:
    try:
        return subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def environment(argv: list[str] | None) -> dict[str, Any]:
    """Return the machine, versions, commit and command line a benchmark report records."""
    return {
        'cpu': _cpu_model(), 'cpu_count': os.cpu_count(), 'load_average': os.getloadavg(),
        'versions': {'meta_tracker_ros': __version__, 'torch': torch.__version__,
                     'torchvision': torchvision.__version__, 'numpy': np.__version__,
                     'opencv': cv2.__version__, 'python': platform.python_version()},
        'git_commit': _git_commit(), 'argv': sys.argv[1:] if argv is None else argv,
    }


def load_frames(sequence: int, count: int) -> tuple[str, list[np.ndarray], Box]:
    """Render a synth-test entry's first count + 1 frames from its first labelled one."""
    entry = get_suite('synth-test').entry(sequence)
    seq = entry.sequence()
    labels = [seq.frame(i) for i in range(min(count + 1, entry.num_frames))]
    first = next(i for i, f in enumerate(labels) if np.isfinite(f.box).all())
    frames = [f.image for f in labels[first:]]
    print(f'{entry.name}: {len(frames)} frames of {frames[0].shape[1]}x{frames[0].shape[0]}, '
          f'load average {os.getloadavg()}', flush=True)
    return entry.name, frames, Box(*labels[first].box)


def write_report(out: Path, benchmark: str, sequence: str, frames: list[np.ndarray],
                 runs: list[dict[str, Any]], argv: list[str] | None) -> None:
    """Write a benchmark's JSON report: its runs and the environment they ran in."""
    report = {'benchmark': benchmark, 'sequence': sequence, 'frames': len(frames) - 1,
              'resolution': [frames[0].shape[1], frames[0].shape[0]], **environment(argv),
              'runs': runs}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + '\n')
    print(f'report: {out}')


def alexnet_weights(folder: Path) -> Path:
    """Write a randomly initialised alexnet_mlt file (paper shapes), for timing only."""
    torch.manual_seed(0)
    net = MLTNet(MLTModelArgs(backbone='alexnet_mlt', backbone_args={'width_mult': 1.0}))
    return save_weights(folder / 'alexnet_mlt_random.safetensors', net.state_dict(),
                        tracker='mlt', model_args=net.args.to_dict(),
                        info={'trained_stages': [1, 2], 'note': 'random, for timing only'})


def time_tracker(name: str, weights: Path | None, frames: list[np.ndarray], box: Box, threads: int,
                 config: dict[str, Any]) -> dict[str, Any]:
    """Initialise on frames[0], update on the rest; per-frame milliseconds."""
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    tracker = build_tracker(name, config, weights)
    t0 = time.perf_counter()
    tracker.initialize(frames[0], box)
    init_ms = (time.perf_counter() - t0) * 1e3
    times, searched_lost = [], []
    lost = False
    for f in frames[1:]:
        t0 = time.perf_counter()
        result = tracker.update(f)
        times.append((time.perf_counter() - t0) * 1e3)
        # The search this frame ran: three scales while tracking, one (wider) while lost.
        searched_lost.append(lost)
        lost = result.state == TrackState.LOST
    ms = np.array(times)
    tracking_ms = ms[~np.array(searched_lost, dtype=bool)]
    interval = tracker.config.to_dict().get('update_interval')
    upd = ms[[i for i in range(len(ms)) if interval and (i + 2) % interval == 0]]
    return {
        'tracker': name, 'threads': threads, 'frames': len(ms), 'init_ms': round(init_ms, 2),
        'median_ms': round(float(np.median(ms)), 2), 'mean_ms': round(float(ms.mean()), 2),
        'p90_ms': round(float(np.percentile(ms, 90)), 2), 'max_ms': round(float(ms.max()), 2),
        'fps_median': round(1e3 / float(np.median(ms)), 1),
        'fps_mean': round(1e3 / float(ms.mean()), 1),
        'update_frame_ms': round(float(upd.mean()), 2) if len(upd) else None,
        'lost_frames': int(np.sum(searched_lost)),
        'median_ms_tracking': round(float(np.median(tracking_ms)), 2) if len(tracking_ms)
        else None,
        'config': tracker.config.to_dict(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('--weights', type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument('--frames', type=int, default=300)
    p.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    p.add_argument('--sequence', type=int, default=0, help='synth-test entry')
    p.add_argument('--trackers', nargs='+', default=['mlt', 'mlt_mt', 'mlt_mt_ft'])
    p.add_argument('--backbones', nargs='+', choices=['mobilenet_v2', 'alexnet_mlt'],
                   default=['mobilenet_v2', 'alexnet_mlt'])
    p.add_argument('--precision', nargs='+', choices=['float32', 'int8'],
                   default=['float32', 'int8'],
                   help='backbone precision: float32 (optimize), int8 (the quantize parameter)')
    p.add_argument('--out', type=Path, default=ROOT / 'benchmarks' / 'results'
                   / 'bench_mlt_speed.json')
    ns = p.parse_args(argv)

    sequence, frames, box = load_frames(ns.sequence, ns.frames)

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        files = [('mobilenet_v2', ns.weights)] if 'mobilenet_v2' in ns.backbones else []
        if 'alexnet_mlt' in ns.backbones:
            files.append(('alexnet_mlt', alexnet_weights(Path(tmp))))
        for backbone, weights in files:
            for precision, threads in ((q, t) for q in ns.precision for t in ns.threads):
                for name in ns.trackers:
                    r = time_tracker(name, weights, frames, box, threads,
                                     {'quantize': precision == 'int8'})
                    r.update(backbone=backbone, precision=precision, weights=str(weights),
                             weights_sha256=sha256_file(weights))
                    runs.append(r)
                    print(f'{name:10s} {backbone:12s} {precision:7s} threads={threads} '
                          f'median {r["median_ms"]:6.1f} ms ({r["fps_median"]:5.1f} fps)  '
                          f'mean {r["mean_ms"]:6.1f}  p90 {r["p90_ms"]:6.1f}  '
                          f'max {r["max_ms"]:6.1f}  update frames {r["update_frame_ms"]}  '
                          f'lost {r["lost_frames"]} (median of the others '
                          f'{r["median_ms_tracking"]})',
                          flush=True)
    write_report(ns.out, 'bench_mlt_speed', sequence, frames, runs, argv)
    return 0


if __name__ == '__main__':
    sys.exit(main())
