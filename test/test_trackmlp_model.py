# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""TrackMLP's model: heads and their targets, the mask-label generator, two-stage MAML."""

from meta_tracker_ros.core.meta.maml import functional, InnerLoop
from meta_tracker_ros.core.models.trackmlp import ADAPTED, TrackMLP, TrackMLPArgs
import pytest
import torch


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return TrackMLP(TrackMLPArgs(channels=16, generator_hidden=32)).eval()


@pytest.fixture(scope='module')
def batch(model):
    torch.manual_seed(1)
    with torch.no_grad():
        z = model.template_features(torch.rand(2, 3, 127, 127) * 255)
        x = model.features(torch.rand(2, 3, 255, 255) * 255)
    boxes = torch.tensor([[100.0, 110.0, 160.0, 150.0], [90.0, 80.0, 170.0, 180.0]])
    masks = torch.zeros(2, 255, 255)
    masks[0, 110:150, 100:160] = 1
    masks[1, 80:180, 90:170] = 1
    return z, x, boxes, masks


def test_shapes_and_the_one_position_mask(model, batch):
    z, x, _, _ = batch
    assert z.shape[-2:] == (8, 8) and x.shape[-2:] == (32, 32)
    out = model(z, x)
    n = model.output_size()
    assert n == 25
    assert out['cls'].shape == (2, 5, n, n) and out['loc'].shape == (2, 20, n, n)
    assert out['mask'].shape == (2, 63 * 63, n, n)
    one = model.mask_at(z, x, 7, 9)
    assert torch.allclose(one, out['mask'][:, :, 7, 9].view(2, 63, 63), atol=1e-5)
    assert set(model(z, x, mask=False)) == {'cls', 'loc'}
    model.train()
    assert not any(m.training for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    model.eval()


def test_targets_round_trip_and_mask_labels(model, batch):
    _, _, boxes, masks = batch
    labels, deltas = model.targets(boxes)
    pos = labels > 0
    assert pos.flatten(1).any(dim=1).all(), 'every box has a positive anchor'
    decoded = model.decode(deltas)                                  # (N, A, n, n, 4)
    assert torch.allclose(decoded[pos], boxes[:, None].expand(-1, pos[0].numel(), 4)
                          .reshape(2, *pos.shape[1:], 4)[pos], atol=1e-3)
    positions = model.positive_positions(boxes)
    lab = model.mask_labels(masks, positions)
    assert lab.shape == (len(positions), 63, 63) and set(lab.unique().tolist()) <= {-1.0, 1.0}
    # The label is the box's rectangle, seen in the position's 127x127 window.
    grid = model.box_labels(boxes, positions)
    for k, (x1, y1, x2, y2) in enumerate(grid.round().long().tolist()):
        inside = lab[k, max(y1 + 1, 0):y2 - 1, max(x1 + 1, 0):x2 - 1]
        assert inside.numel() and (inside == 1).all()
    full = model.mask_labels(torch.ones(2, 255, 255), positions)
    assert (full == 1).all()


def test_generator_prior_and_range(model):
    gen = model.generator
    boxes = torch.tensor([[20.0, 10.0, 40.0, 50.0]])
    prior = gen.prior(boxes)[0]
    assert prior.shape == (63, 63)
    iy, ix = divmod(int(prior.argmax()), 63)
    assert (ix, iy) == (30, 30)
    c = gen(boxes)[0]
    assert c.min() > -1 and c.max() < 1
    assert c[30, 30] > 0.5 and c[0, 0] < -0.5, 'starts near the rectangle label'


def test_two_stage_inner_loop_adapts_heads_and_trains_the_generator(model, batch):
    z, x, boxes, _ = batch
    names = list(ADAPTED)
    positions = model.positive_positions(boxes)

    def support(fast, labels):
        return model.loss(functional(model, fast, z, x, positions), boxes, labels)[0]

    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    inner = InnerLoop.for_module(model, names, steps=20, lr=1e-2, lr_mode='fixed')
    with torch.no_grad():
        labels = model.generator(model.box_labels(boxes, positions))
    traj = inner(lambda f: support(f, labels), inner.initial(model), meta_training=False)
    losses = [float(support(f, labels).detach()) for f in (traj[0], traj[-1])]
    assert losses[1] < losses[0] - 0.01, losses
    assert all(torch.equal(p, before[n]) for n, p in model.named_parameters())

    # Eq. 10: the query loss reaches zeta only through the second-order path of the step.
    for first_order, reaches in ((False, True), (True, False)):
        model.zero_grad()
        inner = InnerLoop.for_module(model, names, steps=1, lr=1e-2, lr_mode='fixed',
                                     first_order=first_order)
        labels = model.generator(model.box_labels(boxes, positions))
        fast = inner(lambda f: support(f, labels), inner.initial(model),
                     meta_training=True)[-1]
        query = model.loss(functional(model, fast, z, x, positions), boxes,
                           model.mask_labels(batch[3], positions))[0]
        query.backward()
        grads = [p.grad for p in model.generator.parameters()]
        got = any(g is not None and g.abs().sum() > 0 for g in grads)
        assert got == reaches, first_order
        assert model.cls_head.head[3].weight.grad is not None
    model.zero_grad()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        TrackMLPArgs(shared=7, cut=7)
    with pytest.raises(ValueError):
        TrackMLPArgs(ratios=(1.0, -2.0))
    with pytest.raises(ValueError, match='unknown'):
        TrackMLPArgs.from_dict({'no_such': 1})
    assert TrackMLPArgs.from_dict(TrackMLPArgs().to_dict()) == TrackMLPArgs()
