# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Train a tracker's network: ``python -m training.train --config X.yaml [--config Y.yaml]``.

Several --config files run one after the other (stage 1 then stage 2). The config's family
chooses the model: MLT's matching network and meta-learner here, the other families through
training/families.py (the MAML detectors, TrackMLP, MetaCREST, MetaSDNet); the loop,
checkpoints, logs and validation are shared. Each stage checkpoints into its run_dir every
few minutes and resumes from there when started again; it logs scalars for TensorBoard
(run_dir/tb) and as JSON lines (run_dir/log.jsonl), and writes a self-describing weights file
(core.weights) at the end. Under ``torchrun --nproc_per_node N`` it trains with
DistributedDataParallel (gloo on CPU).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
from pathlib import Path
import sys
import time
from typing import Any, Callable

from meta_tracker_ros.core.models.backbones import inference_graph
from meta_tracker_ros.core.models.mlt import MLTModelArgs, MLTNet
from meta_tracker_ros.core.weights import load_state_strict, load_weights, save_weights
import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm
from training.bank import FeatureBank
from training.config import TrainConfig
from training.datasets import build_videos
from training.families import get_family
from training.objectives import (episode_features, matching_objective, meta_objective,
                                 support_first)
from training.samplers import Augment, CropMaker, EpisodeSampler, PairSampler
from training.validation import (selection_score, validation_auc, validation_sequences,
                                 ValidationConfig)

FAMILY = 'mlt'
CHECKPOINT = 'checkpoint.pt'


class Dist:
    """Rank and world size; a single process when not started by torchrun."""

    def __init__(self) -> None:
        self.world = int(os.environ.get('WORLD_SIZE', '1'))
        self.rank = int(os.environ.get('RANK', '0'))
        if self.world > 1 and not dist.is_initialized():
            dist.init_process_group('gloo')

    @property
    def main(self) -> bool:
        return self.rank == 0

    def mean(self, value: float) -> float:
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64)
        dist.all_reduce(t)
        return float(t.item()) / self.world

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()


def collate(samples: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """Stack sample dicts into a batch of tensors."""
    return {k: torch.from_numpy(np.stack([s[k] for s in samples])) for k in samples[0]}


def build_model(cfg: TrainConfig) -> tuple[MLTNet, dict[str, Any]]:
    """Build the stage's network; return it with the metadata of the file it started from."""
    if cfg.stage == 1:
        net = MLTNet(MLTModelArgs.from_dict(cfg.model))
        parent: dict[str, Any] = {}
        if cfg.init_from:
            tensors, meta = load_weights(cfg.init_from, accept=FAMILY)
            if meta.model_args != net.args.to_dict():
                raise ValueError(f'{cfg.init_from} has model args {meta.model_args}, the config '
                                 f'asks for {net.args.to_dict()}')
            load_state_strict(net, tensors, cfg.init_from)
            parent = {'training_config': meta.training_config, 'info': meta.info}
        elif cfg.start == 'reference':
            net.matching.init_reference('imagenet' if cfg.pretrained == 'imagenet' else None)
        elif cfg.pretrained == 'imagenet' and net.args.backbone == 'mobilenet_v2':
            net.matching.backbone.load_imagenet()
        return net, parent
    tensors, meta = load_weights(cfg.init_from, accept=FAMILY)
    net = MLTNet.from_args(meta.model_args)
    load_state_strict(net, tensors, cfg.init_from)
    return net, {'training_config': meta.training_config, 'info': meta.info}


def set_train_mode(net: MLTNet, cfg: TrainConfig) -> list[torch.nn.Parameter]:
    """
    Put the stage's modules in train mode and return the parameters it optimises.

    Stage 1 trains the matching network; an ImageNet-initialised backbone keeps its batch
    norm statistics (batches of 8 are too small to re-estimate them) and its first
    freeze_backbone_layers blocks fixed. Stage 2 trains only the meta-learner.
    """
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    if cfg.stage == 2:
        net.meta_learner.train()
        params = list(net.meta_learner.parameters())
    else:
        m = net.matching
        m.train()
        pretrained = net.args.backbone == 'mobilenet_v2' and (cfg.pretrained == 'imagenet'
                                                              or bool(cfg.init_from))
        blocks = list(m.backbone.features) if hasattr(m.backbone, 'features') \
            else list(m.backbone.layers)
        for i, block in enumerate(blocks):
            if i < cfg.freeze_backbone_layers:
                block.eval()
                continue
            for p in block.parameters():
                p.requires_grad_(True)
        for p in getattr(m.backbone, 'adapter', torch.nn.Sequential()).parameters():
            p.requires_grad_(True)
        if pretrained:
            for mod in m.backbone.modules():
                if isinstance(mod, torch.nn.BatchNorm2d):
                    mod.eval()
        if hasattr(m.backbone, 'freeze_prefix') and cfg.freeze_backbone_layers > 0:
            m.backbone.freeze_prefix(cfg.freeze_backbone_layers, net.args.search_size)
        for p in (m.last.weight, m.out_scale, m.out_bias):
            p.requires_grad_(True)
        params = [p for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(True)
    return params


def _rng_state(rng: np.random.Generator) -> dict[str, Any]:
    return {'numpy': json.dumps(rng.bit_generator.state), 'torch': torch.get_rng_state()}


def _set_rng_state(rng: np.random.Generator, state: dict[str, Any]) -> None:
    rng.bit_generator.state = json.loads(state['numpy'])
    torch.set_rng_state(state['torch'])


def _resume_key(values: dict[str, Any]) -> dict[str, Any]:
    """
    Return the part of a config a resumed checkpoint must match (all but the budget).

    Keys a newer TrainConfig added take their defaults, so a checkpoint written before a new
    option existed resumes when the config leaves that option at its default.
    """
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)
                if f.default is not dataclasses.MISSING}
    full = {**defaults, **values}
    return {k: v for k, v in full.items() if k not in ('iterations', 'max_minutes')}


def calibrate_delta_scale(net: MLTNet, sample_batch: Callable[[], dict[str, torch.Tensor]],
                          cfg: TrainConfig, d: Dist) -> float:
    """RMS of delta over the first batches: the meta-learner's fixed input scale."""
    from meta_tracker_ros.core.meta.mlt_update import compute_delta
    from training.objectives import exemplar_mask, labels_for

    m = net.matching
    sq = []
    for _ in range(cfg.delta_scale_batches):
        batch = sample_batch()
        labels = labels_for(m, batch['offset'][:, :cfg.support])
        delta = compute_delta(m, batch['exemplar_feats'], batch['search_feats'][:, :cfg.support],
                              labels, exemplar_mask(m, batch, cfg.exemplar_background))
        sq.append(float(delta.pow(2).mean()))
    return math.sqrt(d.mean(float(np.mean(sq))))


def train_stage(cfg: TrainConfig, d: Dist) -> Path:
    """Run one stage to completion (or its time budget) and return the weights file."""
    t_start = time.monotonic()
    torch.set_num_threads(cfg.threads)
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    family = get_family(cfg.family)
    net, parent = family.build(cfg) if family else build_model(cfg)
    model_args = net.model_args() if family else net.args.to_dict()
    videos = build_videos(cfg.data, rank=d.rank, world=d.world, verbose=d.main)
    aug = Augment(**cfg.augment)
    rng = np.random.default_rng([cfg.seed, d.rank])
    bank = None
    if family:
        sample = family.sampler(videos, net, aug, cfg)

        def sample_batch() -> dict[str, torch.Tensor]:
            return collate([sample(rng) for _ in range(cfg.batch_size)])
    elif cfg.stage == 1:
        args = net.args
        crops = CropMaker(args.exemplar_size, args.search_size, args.context)
        pairs = PairSampler(videos, crops, aug, cfg.max_gap)

        def sample_batch() -> dict[str, torch.Tensor]:
            return collate([pairs.sample(rng) for _ in range(cfg.batch_size)])
    else:
        args = net.args
        crops = CropMaker(args.exemplar_size, args.search_size, args.context)
        # The matching network is fixed in stage 2: its backbone runs as an inference graph.
        features = inference_graph(net.matching.backbone, args.search_size)
        episodes = EpisodeSampler(videos, crops, aug,
                                  cfg.bank_contexts if cfg.bank_slots else cfg.contexts,
                                  cfg.max_gap)
        if cfg.bank_slots:
            bank = FeatureBank(episodes, features, cfg.bank_slots, cfg.bank_refresh)

        def sample_batch() -> dict[str, torch.Tensor]:
            if bank is not None:
                bank.refresh(rng)
                batch = bank.batch(rng, cfg.batch_size, cfg.contexts)
            else:
                batch = episode_features(features, collate([episodes.sample(rng)
                                                            for _ in range(cfg.batch_size)]))
            if cfg.support_selection == 'min_entropy':
                batch = support_first(net.matching, batch, cfg.support, cfg.exemplar_background)
            return batch

    params = family.train_mode(net) if family else set_train_mode(net, cfg)
    # L2-SP's theta_0: the trained parameters as the stage starts (before any resume).
    anchors = [p.detach().clone() for p in params] if cfg.l2_sp > 0 else []
    opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    val_cfg = ValidationConfig.from_dict(cfg.validation)
    best: dict[str, Any] = {}
    val_history: list[dict[str, float]] = []
    step, elapsed_before = 0, 0.0
    ckpt_path = run_dir / CHECKPOINT
    if ckpt_path.is_file():
        ckpt = torch.load(ckpt_path, map_location='cpu', weights_only=True)
        if _resume_key(json.loads(ckpt['config'])) != _resume_key(cfg.to_dict()):
            raise ValueError(f'{ckpt_path} was written with a different config (only '
                             f'iterations and max_minutes may change on resume); use another '
                             f'run_dir or delete the checkpoint')
        net.load_state_dict(ckpt['model'])
        opt.load_state_dict(ckpt['optimizer'])
        step, elapsed_before = int(ckpt['step']), float(ckpt['elapsed'])
        best = {'state': ckpt['best_state'], **json.loads(ckpt['best'])} \
            if 'best_state' in ckpt else {}
        val_history = json.loads(ckpt.get('val_history', '[]'))
        _set_rng_state(rng, ckpt['rng'][d.rank] if d.rank < len(ckpt['rng'])
                       else ckpt['rng'][0])
        if d.main:
            print(f'resumed {ckpt_path} at step {step} ({elapsed_before / 60:.1f} min done)',
                  flush=True)
    if bank is not None:
        bank.fill(rng, lambda it: tqdm(it, desc='feature bank', disable=not d.main,
                                       mininterval=5.0, file=sys.stdout))
    if cfg.stage == 2 and not ckpt_path.is_file():
        scale = calibrate_delta_scale(net, sample_batch, cfg, d)
        net.meta_learner.delta_scale.fill_(scale)
        if d.main:
            print(f'delta_scale = {scale:.3e}', flush=True)

    val_seqs = validation_sequences(val_cfg) if val_cfg is not None and d.main else []
    stages_after = list(parent.get('info', {}).get('trained_stages', [])) + [cfg.stage]

    def validate() -> None:
        """Score the current network on the validation sequences; keep it if the best."""
        if val_cfg is None:
            return
        if d.main:
            was = [(m, m.training) for m in net.modules()]
            net.eval()
            t0 = time.monotonic()
            state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            scores = validation_auc(state, model_args, val_cfg, val_seqs, stages_after,
                                    family=cfg.family)
            for m, training in was:
                m.training = training
            first = next((h for h in val_history if 'selection' in h), scores)
            scores['selection'] = selection_score(scores, first, val_cfg.select)
            if not best or scores['selection'] > best['selection']:
                best.clear()
                best.update({'state': state, 'step': step, 'auc': scores['auc'],
                             'selection': scores['selection']})
            val_history.append({'step': step, 'minutes': round(elapsed() / 60, 2), **scores})
            if writer is not None:
                for k, v in scores.items():
                    writer.add_scalar(f'stage{cfg.stage}/val_{k}', v, step)
            shown = ', '.join(f'{k} {v:.3f}' for k, v in scores.items())
            print(f'validation at step {step}: {shown} (best {best["auc"]:.3f} at step '
                  f'{best["step"]}; {time.monotonic() - t0:.0f} s)', flush=True)
        d.barrier()

    if family:
        module: torch.nn.Module = family.objective(net, cfg)
        wrapped = DistributedDataParallel(module) if d.world > 1 else module

        def objective(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
            # The run's progress, by steps or by time, whichever is further (eq. 4's gamma
            # annealing and the first-order phase follow it).
            done = max(step / cfg.iterations, elapsed() / budget if budget < math.inf else 0.0)
            return wrapped(batch, done, done < cfg.first_order_fraction)
    elif cfg.stage == 1:
        module = net.matching
        wrapped = DistributedDataParallel(module) if d.world > 1 else module

        def objective(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
            return matching_objective(wrapped, net.matching, batch, cfg.exemplar_background)
    else:
        module = net.meta_learner
        wrapped = DistributedDataParallel(module) if d.world > 1 else module

        def objective(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
            return meta_objective(wrapped, net.matching, batch, cfg.support,
                                  cfg.exemplar_background)

    writer = None
    if d.main:
        from torch.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(str(run_dir / 'tb'))
    log_file = open(run_dir / 'log.jsonl', 'a') if d.main else None
    last_ckpt = time.monotonic()
    budget = cfg.max_minutes * 60.0 if cfg.max_minutes > 0 else math.inf
    acc: dict[str, list[float]] = {}
    bar = tqdm(total=cfg.iterations, initial=step, disable=not d.main, dynamic_ncols=True,
               desc=f'stage {cfg.stage}', file=sys.stdout, mininterval=5.0)

    def elapsed() -> float:
        return elapsed_before + time.monotonic() - t_start

    def save_checkpoint() -> None:
        rngs = [None] * d.world
        state = _rng_state(rng)
        if d.world > 1:
            dist.all_gather_object(rngs, state)
        else:
            rngs = [state]
        if d.main:
            tmp = ckpt_path.with_suffix('.tmp')
            extra = {'best_state': best['state'],
                     'best': json.dumps({k: best[k] for k in ('step', 'auc', 'selection')})} \
                if best else {}
            torch.save({'step': step, 'elapsed': elapsed(), 'model': net.state_dict(),
                        'optimizer': opt.state_dict(), 'rng': rngs,
                        'config': json.dumps(cfg.to_dict(), sort_keys=True),
                        'val_history': json.dumps(val_history), **extra}, tmp)
            tmp.replace(ckpt_path)

    if not val_history:
        validate()
    last_val = time.monotonic()
    stop = False
    while step < cfg.iterations and not stop:
        batch = sample_batch()
        loss, stats = objective(batch)
        if anchors:
            sp = sum(((p - p0) ** 2).sum() for p, p0 in zip(params, anchors))
            loss = loss + 0.5 * cfg.l2_sp * sp
            stats['l2_sp'] = float(sp.detach())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        for k, v in stats.items():
            acc.setdefault(k, []).append(v)
        bar.update(1)
        if step % cfg.log_every == 0 or step == cfg.iterations:
            means = {k: d.mean(float(np.nanmean(v))) for k, v in acc.items()}
            acc = {}
            if d.main:
                for k, v in means.items():
                    writer.add_scalar(f'stage{cfg.stage}/{k}', v, step)
                log_file.write(json.dumps({'step': step, 'minutes': elapsed() / 60, **means})
                               + '\n')
                log_file.flush()
                bar.set_postfix({k: f'{v:.4f}' for k, v in means.items() if 'loss' in k})
        # Every rank decides on the same clock reading from rank 0 so they stop together.
        now = d.mean(time.monotonic() - last_ckpt if d.main else 0.0) * d.world
        over = d.mean(float(elapsed() > budget) if d.main else 0.0) * d.world > 0.5
        due = val_cfg is not None and val_cfg.every_minutes > 0 and d.mean(
            time.monotonic() - last_val if d.main else 0.0) * d.world > val_cfg.every_minutes * 60
        if due and not over:
            validate()
            last_val = time.monotonic()
        if now > cfg.checkpoint_minutes * 60.0 or over:
            save_checkpoint()
            last_ckpt = time.monotonic()
        stop = over
    bar.close()
    if not val_history or val_history[-1]['step'] != step:
        validate()
    save_checkpoint()
    minutes = elapsed() / 60.0
    out = Path(cfg.output)
    if d.main:
        writer.close()
        log_file.close()
        stages = list(parent.get('info', {}).get('trained_stages', [])) + [cfg.stage]
        history = list(parent.get('info', {}).get('stage_minutes', [])) + [round(minutes, 2)]
        info = {
            'trained_stages': stages,
            'stage_minutes': history,
            'total_minutes': round(sum(history), 2),
            'iterations': step,
            'seed': cfg.seed,
            'world_size': d.world,
            'threads': cfg.threads,
            'machine': f'{os.cpu_count()} cpu',
        }
        if best:
            info['validation'] = {'chosen_step': best['step'], 'auc': round(best['auc'], 4),
                                  'select': val_cfg.select,
                                  'history': val_history}
        training_config = {f'stage{cfg.stage}': cfg.to_dict()}
        if parent:
            training_config = {**parent['training_config'], **training_config}
        state = best['state'] if best else net.state_dict()
        save_weights(out, state, tracker=cfg.family, model_args=model_args,
                     training_config=training_config, info=info)
        chosen = f' (validation chose step {best["step"]}, AUC {best["auc"]:.3f})' if best else ''
        print(f'stage {cfg.stage}: {step} iterations in {minutes:.1f} min{chosen} -> {out}',
              flush=True)
    d.barrier()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', action='append', required=True,
                        help='training config YAML (repeat to run stages in order)')
    parser.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                        help='replace a config key in every --config (YAML value), e.g. '
                             '--set method=baseline --set output=weights/x.safetensors')
    ns = parser.parse_args(argv)
    configs = [TrainConfig.load(p, ns.set) for p in ns.config]
    d = Dist()
    try:
        for cfg in configs:
            train_stage(cfg, d)
    finally:
        if d.world > 1 and dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == '__main__':
    sys.exit(main())
