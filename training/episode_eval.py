# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Does the meta-learner adapt? Held-out episodes scored for w5, the meta-learner and fine-tuning.

    python -m training.episode_eval --weights weights/mlt_mobilenet_v2.safetensors \
        [--episodes 150] [--selection min_entropy] [--out runs/episode_eval.json]

Episodes are drawn like stage 2's (an exemplar and M' = 16 context patches of one synth-train
video, translation augmentation of --translate pixels) from synth-train entries that neither
training stage of the committed configs uses (500 onwards). M = 8 patches give delta (eq. 2),
chosen as the tracker chooses them (--selection min_entropy, eq. 5) or at random, and labelled
as the tracker labels its memory: the target at the patch centre (its own estimate), while the
augmentation has moved the true target by up to --translate pixels (--support-labels true
uses the true offsets, as stage 2 does). The other M' - M are held out. On them it reports,
for the matching network's own last layer w5, the meta-learner's kernels (eqs. 3-4) and
MLT-mt+ft's 30 Adam steps at 1e-3 on the same M patches: the loss (eq. 6), the fraction of
peaks within pos_radius of the target and the mean peak distance in search pixels. This
isolates the update from the tracking loop, where single drifts decide a sequence's score.
Two controls tell whether the meta-learner's kernels are specific to the target: the kernels
it makes from a zero delta (meta_zero_delta, what it adds whatever the target) and from the
next episode's delta (meta_other_delta, another target's update).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
from typing import Any

from meta_tracker_ros import __version__
from meta_tracker_ros.core.meta.mlt_update import compute_delta, finetune_last_layer
from meta_tracker_ros.core.models.backbones import inference_graph
from meta_tracker_ros.core.models.mlt import logistic_loss, MLTNet
from meta_tracker_ros.core.weights import load_state_strict, load_weights, sha256_file
import numpy as np
import torch
from tqdm import tqdm
from training.datasets import synthetic_videos
from training.objectives import (episode_features, exemplar_mask, labels_for, peak_errors,
                                 support_first)
from training.samplers import Augment, CropMaker, EpisodeSampler
from training.train import collate

FIRST_UNSEEN = 500
VIDEOS = 40
ROWS = ('base', 'meta', 'finetune', 'meta_zero_delta', 'meta_other_delta')


def _scores(m: torch.nn.Module, r: torch.Tensor, labels: torch.Tensor, off: torch.Tensor,
            radius: float) -> list[float]:
    """Held-out loss (eq. 6), fraction of peaks within radius, mean peak error (pixels)."""
    err = peak_errors(r[0], off, m.stride)
    return [float(logistic_loss(r, labels).mean()), float((err <= radius).float().mean()),
            float(err.mean())]


def evaluate(net: MLTNet, episodes: int, support: int = 8, contexts: int = 16,
             selection: str = 'min_entropy', background: float = 0.3, translate: float = 8.0,
             videos: int = VIDEOS, frames: int = 200, seed: int = 0, finetune_steps: int = 30,
             finetune_lr: float = 1e-3, first: int = FIRST_UNSEEN, centre_labels: bool = True,
             progress: bool = False) -> dict[str, Any]:
    """Mean held-out loss, peak hit rate and peak error of 'base', 'meta' and 'finetune'."""
    net.eval()
    m, args = net.matching, net.args
    features = inference_graph(m.backbone, args.search_size)
    sampler = EpisodeSampler(synthetic_videos('synth-train', videos, frames, first),
                             CropMaker(args.exemplar_size, args.search_size, args.context),
                             Augment(flip=0.5, noise=6.0, blur=0.2, translate=translate,
                                     scale=0.05), contexts)
    rng = np.random.default_rng(seed)
    rows: dict[str, list[list[float]]] = {k: [] for k in ROWS}
    kept = []
    for _ in tqdm(range(episodes), desc='episodes', disable=not progress, mininterval=5.0,
                  file=sys.stdout):
        batch = episode_features(features, collate([sampler.sample(rng)]))
        if selection == 'min_entropy':
            batch = support_first(m, batch, support, background)
        fz, fx, off = batch['exemplar_feats'], batch['search_feats'], batch['offset']
        mask = exemplar_mask(m, batch, background)
        labels = labels_for(m, off)
        s, h = slice(0, support), slice(support, contexts)
        given = labels_for(m, torch.zeros_like(off[:, s])) if centre_labels else labels[:, s]
        delta = compute_delta(m, fz, fx[:, s], given, mask)
        tuned = finetune_last_layer(m, fz, fx[:, s], given, m.last_weight().detach(),
                                    finetune_steps, finetune_lr, mask)
        with torch.no_grad():
            weight, attention = net.adapted_kernels(delta)
            zero_w, zero_a = net.adapted_kernels(torch.zeros_like(delta))
            maps = {'base': m.respond(fz, fx[:, h], exemplar_mask=mask),
                    'meta': m.respond(fz, fx[:, h], weight, attention, mask),
                    'finetune': m.respond(fz, fx[:, h], tuned.unsqueeze(0), None, mask),
                    'meta_zero_delta': m.respond(fz, fx[:, h], zero_w, zero_a, mask)}
        held = (fz, fx[:, h], mask, labels[:, h], off[0, h])
        kept.append((held, delta))
        for name, r in maps.items():
            rows[name].append(_scores(m, r, held[3], held[4], args.pos_radius))
    # Kernels from the next episode's delta (another video, or rarely the same one elsewhere):
    # they score as well as 'meta' if the meta-learner's kernels are not target-specific.
    for i, ((fz, fx_h, mask, labels_h, off_h), _) in enumerate(kept):
        with torch.no_grad():
            weight, attention = net.adapted_kernels(kept[(i + 1) % len(kept)][1])
            r = m.respond(fz, fx_h, weight, attention, mask)
        rows['meta_other_delta'].append(_scores(m, r, labels_h, off_h, args.pos_radius))
    out: dict[str, Any] = {}
    base_hit = np.array([r[1] for r in rows['base']])
    for name, values in rows.items():
        v = np.array(values)
        out[name] = {'loss': float(v[:, 0].mean()), 'peak_hit': float(v[:, 1].mean()),
                     'peak_error_px': float(v[:, 2].mean()),
                     'episodes_better_than_base': int((v[:, 1] > base_hit).sum()),
                     'episodes_worse_than_base': int((v[:, 1] < base_hit).sum())}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--weights', required=True, nargs='+', type=Path)
    parser.add_argument('--episodes', type=int, default=150)
    parser.add_argument('--selection', choices=('min_entropy', 'random'), default='min_entropy')
    parser.add_argument('--translate', type=float, default=8.0,
                        help='context translation augmentation (pixels), the scale of the '
                             "tracker's own centring error")
    parser.add_argument('--support-labels', choices=('centre', 'true'), default='centre',
                        help="centre: the tracker's labels (target at its estimate); true: "
                             'the true offsets')
    parser.add_argument('--background', type=float, default=0.3,
                        help="exemplar template weight off the target (mlt's default)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', type=Path, default=Path('runs/episode_eval.json'))
    ns = parser.parse_args(argv)
    if ns.episodes < 1:
        parser.error('--episodes must be positive')
    torch.set_num_threads(1)
    report: dict[str, Any] = {'version': __version__, 'torch': torch.__version__,
                              'episodes': ns.episodes, 'selection': ns.selection,
                              'translate': ns.translate, 'background': ns.background,
                              'support_labels': ns.support_labels,
                              'seed': ns.seed, 'videos': f'synth-train {FIRST_UNSEEN}-'
                              f'{FIRST_UNSEEN + VIDEOS - 1}', 'results': {}}
    for path in ns.weights:
        tensors, meta = load_weights(path, accept='mlt')
        net = MLTNet.from_args(meta.model_args)
        load_state_strict(net, tensors, path)
        res = evaluate(net, ns.episodes, selection=ns.selection, background=ns.background,
                       translate=ns.translate, seed=ns.seed,
                       centre_labels=ns.support_labels == 'centre', progress=True)
        report['results'][str(path)] = {'sha256': sha256_file(path), **res}
        print(path)
        for name, r in res.items():
            print(f"  {name:16s} loss {r['loss']:.4f}  peak hit {r['peak_hit']:.3f}  peak error "
                  f"{r['peak_error_px']:.1f} px  better/worse than w5 "
                  f"{r['episodes_better_than_base']}/{r['episodes_worse_than_base']}")
    ns.out.parent.mkdir(parents=True, exist_ok=True)
    ns.out.write_text(json.dumps(report, indent=1))
    print(f'report: {ns.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
