# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""MLT training: the CLI's two stages, loss going down, exact resume, data sources, DDP."""

import json
import os
from pathlib import Path
import subprocess
import sys

import cv2
from meta_tracker_ros.core.meta.mlt_update import select_min_entropy
from meta_tracker_ros.core.models.mlt import exemplar_weights, logistic_loss, MLTModelArgs, MLTNet
from meta_tracker_ros.core.weights import load_weights
import numpy as np
import pytest
import torch
from training.config import TrainConfig, TrainConfigError
from training.datasets import build_videos, synthetic_videos, videos_from_dataset
from training.episode_eval import evaluate
from training.objectives import labels_for, matching_objective, peak_errors, support_first
from training.samplers import Augment, CropMaker, PairSampler
from training.train import collate, main
import yaml

ROOT = Path(__file__).resolve().parents[1]
TINY = {'backbone': 'alexnet_mlt', 'backbone_args': {'width_mult': 0.0625},
        'exemplar_size': 87, 'search_size': 151, 'last_channels': 12, 'extra_kernels': 4,
        'hidden': 16}
SYNTH = [{'synth': 'synth-train', 'videos': 2, 'frames': 40, 'first': 7}]


def _write(tmp_path, name, **values):
    path = tmp_path / f'{name}.yaml'
    path.write_text(yaml.safe_dump(values))
    return str(path)


def _stage1(tmp_path, name, iterations, **extra):
    values = dict(stage=1, run_dir=str(tmp_path / name), output=str(tmp_path / f'{name}.st'),
                  data=SYNTH, model=TINY, iterations=iterations, batch_size=4, lr=1e-3,
                  seed=3, log_every=2, augment={'translate': 8.0}, **extra)
    return _write(tmp_path, name, **values)


def _fixed_batch(exemplar=87, search=151):
    videos = synthetic_videos('synth-train', 1, 40, first=7)
    crops = CropMaker(exemplar, search)
    sampler = PairSampler(videos, crops, Augment(translate=8.0))
    rng = np.random.default_rng(99)
    return collate([sampler.sample(rng) for _ in range(8)])


def _loss(net, batch):
    net.eval()
    with torch.no_grad():
        r = net.matching(batch['exemplar'], batch['search'])
        return float(logistic_loss(r, labels_for(net.matching, batch['offset'])).mean())


def test_stage1_lowers_the_loss_and_writes_a_described_file(tmp_path):
    cfg = _stage1(tmp_path, 'a', 30)
    assert main(['--config', cfg]) == 0
    tensors, meta = load_weights(tmp_path / 'a.st', accept='mlt')
    assert meta.model_args == MLTModelArgs(**TINY).to_dict()
    assert meta.training_config['stage1']['iterations'] == 30
    assert meta.info['trained_stages'] == [1] and meta.info['seed'] == 3
    assert meta.info['iterations'] == 30 and meta.info['total_minutes'] >= 0
    trained = MLTNet(MLTModelArgs(**TINY))
    trained.load_state_dict(tensors)
    torch.manual_seed(3)
    initial = MLTNet(MLTModelArgs(**TINY))
    batch = _fixed_batch()
    assert _loss(trained, batch) < _loss(initial, batch) - 0.02
    log = [json.loads(line) for line in (tmp_path / 'a' / 'log.jsonl').read_text().splitlines()]
    assert [r['step'] for r in log] == list(range(2, 31, 2))
    assert any(p.name.startswith('events.out.tfevents') for p in (tmp_path / 'a' / 'tb').iterdir())


def test_resume_continues_exactly(tmp_path):
    main(['--config', _stage1(tmp_path, 'once', 8)])
    main(['--config', _stage1(tmp_path, 'twice', 4)])
    assert (tmp_path / 'twice' / 'checkpoint.pt').is_file()
    main(['--config', _stage1(tmp_path, 'twice', 8)])
    a, _ = load_weights(tmp_path / 'once.st', accept='mlt')
    b, meta = load_weights(tmp_path / 'twice.st', accept='mlt')
    assert meta.info['iterations'] == 8
    for k in a:
        assert torch.equal(a[k], b[k]), k
    with pytest.raises(ValueError, match='different config'):
        main(['--config', _stage1(tmp_path, 'twice', 8, max_gap=5)])


def test_stage2_trains_only_the_meta_learner(tmp_path):
    main(['--config', _stage1(tmp_path, 's1', 2)])
    cfg = _write(tmp_path, 's2', stage=2, run_dir=str(tmp_path / 's2'),
                 output=str(tmp_path / 's2.st'), init_from=str(tmp_path / 's1.st'), data=SYNTH,
                 iterations=6, batch_size=2, support=2, contexts=4, bank_slots=3,
                 bank_contexts=5, delta_scale_batches=1, seed=4, log_every=3,
                 support_selection='min_entropy')
    assert main(['--config', cfg]) == 0
    s1, _ = load_weights(tmp_path / 's1.st', accept='mlt')
    s2, meta = load_weights(tmp_path / 's2.st', accept='mlt')
    assert meta.info['trained_stages'] == [1, 2]
    assert set(meta.training_config) == {'stage1', 'stage2'}
    for k in s1:
        same = torch.equal(s1[k], s2[k])
        assert same == (not k.startswith('meta_learner.')), k
    assert float(s2['meta_learner.delta_scale']) != 1.0
    log = [json.loads(line) for line in (tmp_path / 's2' / 'log.jsonl').read_text().splitlines()]
    assert {'loss', 'loss_base', 'loss_heldout', 'delta_rms'} <= set(log[-1])
    assert meta.training_config['stage2']['support_selection'] == 'min_entropy'


def test_stage2_chooses_the_support_like_the_tracker():
    torch.manual_seed(1)
    net = MLTNet(MLTModelArgs(**dict(TINY, exemplar_size=127, search_size=191)))
    net.eval()
    m = net.matching
    fz = m.features(torch.rand(2, 3, 127, 127) * 255)
    fx = m.features(torch.rand(12, 3, 191, 191) * 255)
    batch = {'exemplar_feats': fz, 'search_feats': fx.view(2, 6, *fx.shape[1:]),
             'offset': torch.arange(24, dtype=torch.float32).view(2, 6, 2),
             'exemplar_wh': torch.tensor([[40.0, 30.0], [20.0, 60.0]])}
    out = support_first(m, batch, 3, 0.3)
    mask = exemplar_weights((m.exemplar_feat_size,) * 2, batch['exemplar_wh'], m.stride, 0.3)
    with torch.no_grad():
        maps = m.respond(fz, batch['search_feats'], exemplar_mask=mask).numpy()
    for b in range(2):
        order = [int(o) // 2 - 6 * b for o in out['offset'][b, :, 0]]
        # The tracker's own choice (eq. 5) comes first; the other patches keep their order.
        assert order[:3] == select_min_entropy(list(maps[b]), 3)
        assert order[3:] == sorted(order[3:]) and sorted(order) == list(range(6))
        # Each patch keeps its own offset.
        for i, j in enumerate(order):
            assert torch.equal(out['search_feats'][b, i], batch['search_feats'][b, j])
        # (With this seed neither episode's choice is its first three patches.)
        assert order[:3] != [0, 1, 2]
    with pytest.raises(TrainConfigError, match='support_selection'):
        TrainConfig.from_dict({'stage': 2, 'run_dir': 'r', 'output': 'o', 'data': SYNTH,
                               'init_from': 'x', 'support_selection': 'sharpest'})


def test_training_weighs_the_template_like_the_tracker(tmp_path):
    # A 127-pixel exemplar, so the template has positions off the target.
    args = dict(TINY, exemplar_size=127, search_size=191)
    batch = _fixed_batch(127, 191)
    # The sampler's target size is the box scaled as the exemplar crop scales it.
    wh = batch['exemplar_wh']
    assert wh.shape == (8, 2) and bool((wh > 0).all()) and bool((wh < 127).all())
    torch.manual_seed(0)
    net = MLTNet(MLTModelArgs(**args))
    net.eval()
    with torch.no_grad():
        plain, _ = matching_objective(net.matching, net.matching, batch, 1.0)
        weighted, _ = matching_objective(net.matching, net.matching, batch, 0.3)
        m = net.matching
        size = m.exemplar_feat_size
        mask = exemplar_weights((size, size), wh, m.stride, 0.3)
        assert float(mask.min()) < 1.0 < float(mask.max())
        fz = m.features(batch['exemplar'])
        fx = m.features(batch['search'].flatten(0, 1)).unsqueeze(1)
        expected = logistic_loss(m.respond_to(m.template(fz) * mask.unsqueeze(1), fx),
                                 labels_for(m, batch['offset'])).mean()
    assert float(weighted) == pytest.approx(float(expected), rel=1e-5)
    assert abs(float(weighted) - float(plain)) > 1e-4
    # Both stages train with it and record it.
    main(['--config', _stage1(tmp_path, 'w1', 2, exemplar_background=0.3)])
    cfg = _write(tmp_path, 'w2', stage=2, run_dir=str(tmp_path / 'w2'),
                 output=str(tmp_path / 'w2.st'), init_from=str(tmp_path / 'w1.st'), data=SYNTH,
                 iterations=2, batch_size=2, support=2, contexts=4, bank_slots=3,
                 bank_contexts=5, delta_scale_batches=1, seed=4, log_every=1,
                 exemplar_background=0.3)
    assert main(['--config', cfg]) == 0
    _, meta = load_weights(tmp_path / 'w2.st', accept='mlt')
    assert meta.training_config['stage1']['exemplar_background'] == 0.3
    assert meta.training_config['stage2']['exemplar_background'] == 0.3
    with pytest.raises(TrainConfigError, match='exemplar_background'):
        TrainConfig.from_dict({'stage': 1, 'run_dir': 'r', 'output': 'o', 'data': SYNTH,
                               'exemplar_background': 1.5})


def test_config_and_data_sources_are_checked(tmp_path):
    with pytest.raises(TrainConfigError, match='lerning_rate'):
        TrainConfig.from_dict({'stage': 1, 'run_dir': 'r', 'output': 'o', 'data': ['x'],
                               'lerning_rate': 1})
    with pytest.raises(TrainConfigError, match='init_from'):
        TrainConfig.from_dict({'stage': 2, 'run_dir': 'r', 'output': 'o', 'data': ['x']})
    for suite in ('synth-test', 'synth-dev', 'synth-long'):
        with pytest.raises(ValueError, match='not a training suite'):
            synthetic_videos(suite, 1)
        with pytest.raises(ValueError, match='evaluation suite'):
            videos_from_dataset(f'synth:{suite}')
    with pytest.raises(ValueError, match='bad data source'):
        build_videos([42])


def test_got10k_folder_through_the_eval_reader(tmp_path):
    root = tmp_path / 'got10k' / 'train'
    names = ['GOT-10k_Train_000001', 'GOT-10k_Train_000002']
    for k, name in enumerate(names):
        d = root / name
        d.mkdir(parents=True)
        boxes = []
        for i in range(6):
            img = np.full((120, 160, 3), 90, np.uint8)
            x, y = 20 + 5 * i + 10 * k, 30 + 2 * i
            img[y:y + 30, x:x + 40] = (200, 40, 40)
            cv2.imwrite(str(d / f'{i + 1:08d}.jpg'), img)
            boxes.append(f'{x},{y},40,30')
        (d / 'groundtruth.txt').write_text('\n'.join(boxes) + '\n')
        (d / 'absence.label').write_text('0\n0\n0\n1\n0\n0\n')
    (root / 'list.txt').write_text('\n'.join(names) + '\n')
    videos = build_videos([f'got10k:{tmp_path / "got10k"}:train'])
    assert [v.name for v in videos] == names
    assert videos[0].usable().tolist() == [True, True, True, False, True, True]
    assert videos[1].frame(0).shape == (120, 160, 3)
    sample = PairSampler(videos, CropMaker(87, 151), Augment()).sample(np.random.default_rng(0))
    assert sample['exemplar'].shape == (3, 87, 87) and sample['search'].shape == (1, 3, 151, 151)


def test_two_process_ddp_run(tmp_path):
    cfg = _stage1(tmp_path, 'ddp', 3, threads=1)
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', ''))
    torchrun = Path(sys.executable).with_name('torchrun')
    proc = subprocess.run([str(torchrun), '--standalone', '--nproc_per_node', '2', '-m',
                           'training.train', '--config', cfg], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _, meta = load_weights(tmp_path / 'ddp.st', accept='mlt')
    assert meta.info['world_size'] == 2 and meta.info['iterations'] == 3


def test_reference_start_l2_sp_and_validation_choose_the_weights(tmp_path, monkeypatch):
    monkeypatch.setenv('META_TRACKER_DATA', str(tmp_path / 'data'))
    # start: reference makes the untrained matching the cosine correlation of the backbone's
    # own features: w5 has orthonormal columns.
    cfg = _write(tmp_path, 'ref', stage=1, run_dir=str(tmp_path / 'ref'),
                 output=str(tmp_path / 'ref.st'), data=SYNTH,
                 model={**TINY, 'last_channels': 24}, iterations=3, batch_size=4, lr=1e-3,
                 seed=3, log_every=1, augment={'translate': 8.0}, start='reference',
                 pretrained='none', l2_sp=0.5,
                 validation={'suites': ['synth-mini'], 'sequences': 1, 'frames': 12,
                             'every_minutes': 0})
    assert main(['--config', cfg]) == 0
    tensors, meta = load_weights(tmp_path / 'ref.st', accept='mlt')
    val = meta.info['validation']
    steps = [h['step'] for h in val['history']]
    assert steps == [0, 3]
    best = max(val['history'], key=lambda h: h['selection'])
    assert val['chosen_step'] == best['step'] and val['auc'] == pytest.approx(best['auc'],
                                                                              abs=1e-4)
    # worst_gain: the first validation is the zero every later one is measured from.
    assert val['select'] == 'worst_gain' and val['history'][0]['selection'] == 0.0
    w5 = tensors['matching.last.weight'][:, :, 0, 0]
    start = torch.eye(w5.shape[1])
    if val['chosen_step'] == 0:
        # The reference itself is kept when training did not track better.
        assert torch.allclose(w5.T @ w5, start, atol=1e-5)
    else:
        ckpt = torch.load(tmp_path / 'ref' / 'checkpoint.pt', weights_only=True)
        assert torch.equal(ckpt['model']['matching.last.weight'],
                           tensors['matching.last.weight'])
    logged = [json.loads(line) for line in (tmp_path / 'ref' / 'log.jsonl').open()]
    assert all(r['l2_sp'] >= 0 for r in logged) and any(r['l2_sp'] > 0 for r in logged)
    with pytest.raises(TrainConfigError, match='validation'):
        TrainConfig.from_dict({'stage': 1, 'run_dir': 'r', 'output': 'o', 'data': SYNTH,
                               'validation': {'suites': ['synth-test']}})
    with pytest.raises(TrainConfigError, match='start'):
        TrainConfig.from_dict({'stage': 1, 'run_dir': 'r', 'output': 'o', 'data': SYNTH,
                               'start': 'imagenet'})


def test_stronger_augmentation_keeps_the_offset_on_the_target():
    videos = synthetic_videos('synth-train', 1, 40, first=7)
    crops = CropMaker(127, 255)
    aug = Augment(flip=0.0, noise=0.0, blur=0.0, translate=40.0, scale=0.0, color=0.5,
                  gray=0.5, aspect=0.4)
    v = videos[0]
    i = int(np.flatnonzero(v.usable())[0])
    frame = v.frame(i)
    plain = Augment(flip=0.0, noise=0.0, blur=0.0, translate=40.0, scale=0.0)
    for seed in range(6):
        z, off = crops.search(frame, v.boxes[i], aug, np.random.default_rng(seed), True, False)
        z0, off0 = crops.search(frame, v.boxes[i], plain, np.random.default_rng(seed), True,
                                False)
        assert z.shape == (3, 255, 255) and 0.0 <= z.min() and z.max() <= 255.0
        # Stretching moves the target's offset by the stretch factors, not elsewhere.
        ratio = off / np.where(off0 == 0, 1, off0)
        assert ratio[0] * ratio[1] == pytest.approx(1.0, rel=1e-4)


def test_stage1_trains_the_adapter_with_the_frozen_prefix():
    from training.config import TrainConfig
    from training.train import set_train_mode

    net = MLTNet(MLTModelArgs(backbone='mobilenet_v2',
                              backbone_args={'cut': 5, 'adapter': 1, 'adapter_hidden': 8}))
    cfg = TrainConfig(stage=1, run_dir='r', output='o.st', data=[{'synth': 'synth-train'}],
                      freeze_backbone_layers=4)
    params = {id(p) for p in set_train_mode(net, cfg)}
    backbone = net.matching.backbone
    assert all(id(p) in params for p in backbone.adapter.parameters())
    assert not any(id(p) in params for p in backbone.features[:4].parameters())
    assert id(net.matching.last.weight) in params


def test_episode_eval_scores_w5_the_meta_learner_and_finetuning():
    # The peak error is measured from the map's peak to the target offset, in search pixels.
    r = torch.full((2, 17, 17), -5.0)
    r[0, 8, 8] = 3.0
    r[1, 10, 5] = 3.0
    err = peak_errors(r, torch.tensor([[0.0, 0.0], [-24.0, 16.0]]), 8)
    assert torch.allclose(err, torch.tensor([0.0, 0.0]))
    err = peak_errors(r, torch.tensor([[8.0, 0.0], [0.0, 0.0]]), 8)
    assert torch.allclose(err, torch.tensor([8.0, (24.0 ** 2 + 16.0 ** 2) ** 0.5]))
    torch.manual_seed(0)
    net = MLTNet(MLTModelArgs(**TINY))
    res = evaluate(net, 2, support=2, contexts=4, videos=2, frames=40, finetune_steps=3)
    assert set(res) == {'base', 'meta', 'finetune', 'meta_zero_delta', 'meta_other_delta'}
    for r in res.values():
        assert 0.0 <= r['peak_hit'] <= 1.0 and r['loss'] > 0 and r['peak_error_px'] >= 0
    # Fine-tuning on the support patches changes the held-out maps; an untrained meta-learner
    # starts near zero and changes them only slightly.
    assert res['finetune']['loss'] != res['base']['loss']
    assert abs(res['meta']['loss'] - res['base']['loss']) < 0.05
    # The controls: with a meta-learner whose kernels follow delta, another episode's delta
    # and a zero delta give other kernels than the episode's own delta.
    with torch.no_grad():
        net.meta_learner.layers[-1].weight.mul_(1e4)
    res = evaluate(net, 2, support=2, contexts=4, videos=2, frames=40, finetune_steps=3)
    assert res['meta_other_delta']['loss'] != res['meta']['loss']
    assert res['meta_zero_delta']['loss'] != res['meta']['loss']
