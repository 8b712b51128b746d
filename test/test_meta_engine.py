# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The shared meta-learning engine (core/meta/maml.py), in the style of learn2learn's tests."""

from meta_tracker_ros.core.meta.maml import (functional, InnerLoop, lr_shape, multi_step_loss,
                                             select_parameters, step_loss_weights)
import pytest
import torch
from torch import nn


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.Tanh(), nn.Conv2d(4, 3, 1))


def _data(seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(5, 2, 6, 6, generator=g), torch.randn(5, 3, 6, 6, generator=g)


def _loss(net, x, y):
    return lambda fast: ((functional(net, fast, x) - y) ** 2).mean()


def test_selection_by_name_and_unknown_patterns_fail():
    net = _net()
    assert list(select_parameters(net, ['2.*'])) == ['2.weight', '2.bias']
    assert list(select_parameters(net, ['*.bias', '0.weight'])) == ['0.weight', '0.bias',
                                                                    '2.bias']
    with pytest.raises(ValueError, match='head.weight'):
        select_parameters(net, ['head.weight'])


def test_learning_rate_shapes_per_mode():
    conv = torch.Size((8, 4, 3, 3))
    assert lr_shape(conv, 'kernel') == (8, 1, 1, 1)
    assert lr_shape(torch.Size((8,)), 'kernel') == (8,)
    assert lr_shape(conv, 'parameter') == (8, 4, 3, 3)
    assert lr_shape(conv, 'scalar') == ()
    loop = InnerLoop.for_module(_net(), ['0.*'], lr=1e-3, lr_mode='kernel')
    assert {n: tuple(p.shape) for n, p in loop.named_parameters()} == {
        'lr.0__weight': (4, 1, 1, 1), 'lr.0__bias': (4,)}
    assert float(loop.lr['0__weight'].detach()[0, 0, 0, 0]) == pytest.approx(1e-3)
    assert not list(InnerLoop.for_module(_net(), ['0.*'], lr_mode='fixed').parameters())
    with pytest.raises(ValueError, match='lr_mode'):
        InnerLoop.for_module(_net(), ['0.*'], lr_mode='per-layer')


def test_k_steps_equal_hand_written_sgd_and_leave_the_module_untouched():
    net = _net()
    x, y = _data()
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    loop = InnerLoop.for_module(net, ['*'], steps=3, lr=0.1)
    trajectory = loop(_loss(net, x, y), loop.initial(net))
    assert len(trajectory) == 4
    # By hand: a copy of the network and three plain SGD steps.
    ref = _net()
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        ((ref(x) - y) ** 2).mean().backward()
        opt.step()
    for name, p in ref.named_parameters():
        torch.testing.assert_close(trajectory[-1][name], p, rtol=1e-5, atol=1e-6)
    for name, p in net.named_parameters():
        assert torch.equal(p, before[name]) and p.grad is None
    # Adapted weights lower the support loss.
    assert _loss(net, x, y)(trajectory[-1]) < _loss(net, x, y)(trajectory[0])


def test_adam_steps_equal_torch_optim_adam():
    net = _net()
    x, y = _data()
    loop = InnerLoop.for_module(net, ['2.weight'], steps=5, lr=1e-2, optimizer='adam')
    fast = loop(_loss(net, x, y), loop.initial(net), meta_training=False)[-1]
    w = net[2].weight.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([w], lr=1e-2)
    for _ in range(5):
        opt.zero_grad()
        loss = ((functional(net, {'2.weight': w}, x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    torch.testing.assert_close(fast['2.weight'], w.detach(), rtol=1e-5, atol=1e-7)


def _meta_grads(first_order: bool):
    net = _net()
    x, y = _data(1)
    xq, yq = _data(2)
    loop = InnerLoop.for_module(net, ['*'], steps=2, lr=0.05, lr_mode='kernel',
                                first_order=first_order)
    trajectory = loop(_loss(net, x, y), loop.initial(net))
    query = _loss(net, xq, yq)(trajectory[-1])
    params = list(net.parameters()) + list(loop.parameters())
    return torch.autograd.grad(query, params)


def test_meta_gradient_reaches_theta0_and_the_learning_rates():
    grads = _meta_grads(first_order=False)
    assert all(g is not None and float(g.abs().sum()) > 0 for g in grads)
    grads = _meta_grads(first_order=True)
    assert all(g is not None and float(g.abs().sum()) > 0 for g in grads)


def test_first_and_second_order_meta_gradients_differ():
    second, first = _meta_grads(False), _meta_grads(True)
    assert any(not torch.allclose(a, b, rtol=1e-4, atol=1e-7) for a, b in zip(second, first))
    # ... but only by the second-order terms: the same direction.
    a = torch.cat([g.flatten() for g in second])
    b = torch.cat([g.flatten() for g in first])
    assert torch.nn.functional.cosine_similarity(a, b, dim=0) > 0.5


def test_no_graph_is_kept_outside_meta_training():
    net = _net()
    x, y = _data()
    loop = InnerLoop.for_module(net, ['2.*'], steps=2, lr=0.1, lr_mode='kernel')
    loop.eval()
    trajectory = loop(_loss(net, x, y), loop.initial(net))
    assert all(not t.requires_grad for theta in trajectory for t in theta.values())
    # Inside no_grad (a tracker's frame loop) the steps still run.
    loop.train()
    with torch.no_grad():
        trajectory = loop(_loss(net, x, y), loop.initial(net))
    assert not torch.equal(trajectory[-1]['2.weight'], net[2].weight)
    assert all(not t.requires_grad for t in trajectory[-1].values())


def test_multi_step_loss_weights_and_bad_input():
    assert step_loss_weights(4, 0.0) == pytest.approx([0.2] * 5)
    assert step_loss_weights(4, 1.0) == pytest.approx([0.05, 0.10, 0.2, 0.30, 0.35])
    assert sum(step_loss_weights(4, 0.4)) == pytest.approx(1.0)
    assert step_loss_weights(2, 1.0) == pytest.approx([1 / 6, 2 / 6, 3 / 6])
    with pytest.raises(ValueError):
        step_loss_weights(2, 0.5, final=(0.5, 0.5))
    net = _net()
    x, y = _data()
    loop = InnerLoop.for_module(net, ['*'], steps=4, lr=0.1)
    trajectory = loop(_loss(net, x, y), loop.initial(net))
    loss = _loss(net, x, y)
    total = multi_step_loss(trajectory, loss, step_loss_weights(4, 1.0))
    expected = sum(g * loss(t) for g, t in zip([0.05, 0.10, 0.2, 0.30, 0.35], trajectory))
    torch.testing.assert_close(total, expected)
    with pytest.raises(ValueError):
        multi_step_loss(trajectory, loss, [1.0])
    only = loop(loss, {'0.weight': net[0].weight})
    assert list(only[-1]) == ['0.weight']
    with pytest.raises(ValueError, match='not among the adapted'):
        loop(loss, {'1.weight': net[0].weight})
    with pytest.raises(FloatingPointError):
        loop(lambda fast: fast['0.weight'].sum() * float('nan'), loop.initial(net))
