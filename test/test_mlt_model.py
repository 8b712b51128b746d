# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""MLT's network maths: eq. 2 against autograd, the meta-learner's outputs, eq. 5, eq. 6."""

import hashlib

from meta_tracker_ros.core.meta.mlt_update import (compute_delta, finetune_last_layer,
                                                   response_entropy, select_min_entropy)
from meta_tracker_ros.core.models.backbones import (AlexNetMLT, load_imagenet_mobilenet_v2,
                                                    MOBILENET_V2_SHA256, MobileNetV2Cut,
                                                    quantized_graph, ResidualAdapter)
from meta_tracker_ros.core.models.mlt import (correlate, embed, exemplar_weights,
                                              logistic_loss, MLTModelArgs, MLTNet,
                                              normalize_search, response_labels, template,
                                              window_response, window_template)
import numpy as np
import pytest
import torch
import torch.nn.functional as F

TINY = {'backbone': 'alexnet_mlt', 'backbone_args': {'width_mult': 1 / 16},
        'exemplar_size': 87, 'search_size': 151, 'last_channels': 12, 'extra_kernels': 4,
        'hidden': 16}


@pytest.fixture(scope='module')
def tiny_net():
    torch.manual_seed(0)
    return MLTNet(MLTModelArgs(**TINY)).eval()


def _episode(net, b=2, m=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    ex = torch.rand(b, 3, 87, 87, generator=g) * 255
    sx = torch.rand(b * m, 3, 151, 151, generator=g) * 255
    mt = net.matching
    with torch.no_grad():
        fz = mt.features(ex)
        fx = mt.features(sx)
    fx = fx.view(b, m, *fx.shape[1:])
    offsets = (torch.rand(b, m, 2, generator=g) - 0.5) * 16
    labels = response_labels(mt.response_size, mt.stride, offsets, 16.0)
    return fz, fx, labels


def test_tiny_network_shapes(tiny_net):
    m = tiny_net.matching
    assert (m.exemplar_feat_size, m.search_feat_size, m.response_size) == (3, 11, 9)
    fz, fx, labels = _episode(tiny_net)
    assert m.respond(fz, fx).shape == (2, 3, 9, 9) == labels.shape


def test_delta_is_the_averaged_negative_gradient_of_eq2(tiny_net):
    m = tiny_net.matching
    fz, fx, labels = _episode(tiny_net, b=2, m=3)
    delta = compute_delta(m, fz, fx, labels)
    assert delta.shape == (2, 12, m.in_channels)
    for b in range(2):
        # Reference: the module's own w5 through autograd, one context image at a time.
        m.zero_grad()
        total = 0.0
        for i in range(3):
            r = m.respond(fz[b:b + 1], fx[b:b + 1, i:i + 1])
            total = total + logistic_loss(r, labels[b:b + 1, i:i + 1]).sum() / 3
        (g,) = torch.autograd.grad(total, m.last.weight)
        torch.testing.assert_close(delta[b], -g[:, :, 0, 0], rtol=1e-4, atol=1e-6)
    assert not torch.allclose(delta[0], delta[1])


def test_reassociated_correlation_equals_embedding_then_correlation():
    g = torch.Generator().manual_seed(3)
    fz, fx = torch.randn(2, 8, 4, 4, generator=g), torch.randn(2, 3, 8, 10, 10, generator=g)
    w, a = torch.randn(2, 12, 8, generator=g), torch.rand(2, 12, generator=g)
    ez, ex = embed(fz.unsqueeze(1), w, a)[:, 0], embed(fx, w, a)
    assert torch.allclose(ex.norm(dim=2), torch.ones(2, 3, 10, 10), atol=1e-5)
    ref = torch.stack([torch.stack([F.conv2d(ex[b, s:s + 1], ez[b:b + 1])[0, 0]
                                    for s in range(3)]) for b in range(2)]) / 16
    torch.testing.assert_close(correlate(ez, ex), ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(correlate(template(fz, w, a), normalize_search(fx, w, a)), ref,
                               rtol=1e-4, atol=1e-5)


def test_window_normalisation_is_the_cosine_of_exemplar_and_search_window():
    g = torch.Generator().manual_seed(4)
    fz, fx = torch.randn(2, 8, 4, 4, generator=g), torch.randn(2, 3, 8, 9, 9, generator=g)
    w, a = torch.randn(2, 12, 8, generator=g), torch.rand(2, 12, generator=g)
    wa = w * a.unsqueeze(-1)
    ez = torch.einsum('bkc,bchw->bkhw', wa, fz)
    ex = torch.einsum('bkc,bschw->bskhw', wa, fx)
    ref = torch.empty(2, 3, 6, 6)
    for b in range(2):
        for s in range(3):
            for i in range(6):
                for j in range(6):
                    win = ex[b, s, :, i:i + 4, j:j + 4]
                    ref[b, s, i, j] = (ez[b] * win).sum() / (ez[b].norm() * win.norm())
    out = window_response(window_template(fz, w, a), fx, w, a)
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    # Scaling a search image's features leaves every cosine unchanged.
    fx2 = fx.clone()
    fx2[0, 0] *= 7.0
    torch.testing.assert_close(window_response(window_template(fz, w, a), fx2, w, a)[0, 0],
                               out[0, 0], rtol=1e-4, atol=1e-5)


def test_normalisation_is_a_model_argument(tiny_net):
    with pytest.raises(ValueError, match='normalization'):
        MLTModelArgs(**TINY, normalization='channel')
    torch.manual_seed(0)
    win = MLTNet(MLTModelArgs(**TINY, normalization='window')).eval()
    win.load_state_dict(tiny_net.state_dict())
    fz, fx, _ = _episode(tiny_net)
    r_pos, r_win = tiny_net.matching.respond(fz, fx), win.matching.respond(fz, fx)
    assert r_pos.shape == r_win.shape
    assert not torch.allclose(r_pos, r_win)
    # Both stay within out_scale * [-1, 1] + out_bias.
    m = win.matching
    assert bool((r_win.abs() <= m.out_scale.abs() + m.out_bias.abs() + 1e-4).all())


def test_logistic_loss_balances_labels():
    labels = -torch.ones(1, 5, 5)
    labels[0, 2, 2] = 1.0
    response = torch.zeros(1, 5, 5)
    response[0, 2, 2] = 3.0
    response[0, 0, 0] = 1.0
    pos = F.softplus(torch.tensor(-3.0))
    neg = (F.softplus(torch.tensor(1.0)) + 23 * F.softplus(torch.tensor(0.0))) / 24
    torch.testing.assert_close(logistic_loss(response, labels)[0], 0.5 * pos + 0.5 * neg)
    assert logistic_loss(-response, labels) > logistic_loss(response, labels)


def test_meta_learner_shapes_and_effect(tiny_net):
    m = tiny_net.matching
    fz, fx, labels = _episode(tiny_net)
    delta = compute_delta(m, fz, fx, labels)
    w5_before = m.last.weight.detach().clone()
    w_target, attention = tiny_net.meta_learner(delta)
    assert w_target.shape == (2, 4, m.in_channels)
    assert attention.shape == (2, 16) and bool(((attention > 0) & (attention < 1)).all())
    weight, att = tiny_net.adapted_kernels(delta)
    assert weight.shape == (2, 16, m.in_channels)
    # The extra kernels are concatenated after w5, which is untouched.
    assert torch.equal(weight[:, :12], w5_before[:, :, 0, 0].expand(2, -1, -1))
    assert torch.equal(weight[:, 12:], w_target)
    assert torch.equal(m.last.weight, w5_before)
    with torch.no_grad():
        tiny_net.meta_learner.layers[-1].weight.normal_(0, 0.1)
        weight, att = tiny_net.adapted_kernels(delta)
        changed = (m.respond(fz, fx, weight, att) - m.respond(fz, fx)).abs().max()
    assert changed > 1e-2


def test_meta_learner_dropout_only_while_training(tiny_net):
    d = torch.randn(1, 12, tiny_net.matching.in_channels)
    ml = tiny_net.meta_learner
    ml.eval()
    assert torch.equal(ml(d)[0], ml(d)[0])
    assert abs(ml.layers[2].p - 0.3) < 1e-9
    ml.train()
    torch.manual_seed(0)
    assert not torch.equal(ml(d)[0], ml(d)[0])
    ml.eval()


def test_min_entropy_selection_picks_the_sharpest_maps():
    flat = np.zeros((17, 17))
    sharp = np.full((17, 17), -6.0)
    sharp[8, 8] = 6.0
    two = np.full((17, 17), -6.0)
    two[3, 3] = two[12, 12] = 6.0
    wide = np.full((17, 17), -6.0)
    wide[6:11, 6:11] = 6.0
    maps = [flat, wide, two, sharp]
    assert select_min_entropy(maps, 1) == [3]
    assert select_min_entropy(maps, 3) == [3, 2, 1]
    p = np.exp(sharp - sharp.max())
    p /= p.sum()
    assert abs(response_entropy(sharp) + (p * np.log(p)).sum()) < 1e-9
    assert abs(response_entropy(flat) - np.log(17 * 17)) < 1e-9


def test_finetune_changes_only_the_fast_weights(tiny_net):
    m = tiny_net.matching
    fz, fx, labels = _episode(tiny_net, b=1, m=3)
    w5 = m.last_weight().detach().clone()
    before = logistic_loss(m.respond(fz, fx), labels).mean()
    w = finetune_last_layer(m, fz, fx, labels, w5, steps=10, lr=1e-2)
    after = logistic_loss(m.respond(fz, fx, w.unsqueeze(0)), labels).mean()
    assert after < before
    assert torch.equal(m.last_weight(), w5) and m.last.weight.grad is None


def test_alexnet_mlt_matches_the_paper():
    net = AlexNetMLT()
    convs = [mod.weight.shape for mod in net.modules() if isinstance(mod, torch.nn.Conv2d)]
    assert convs == [(128, 3, 11, 11), (256, 128, 5, 5), (384, 256, 3, 3), (256, 384, 3, 3)]
    assert sum(isinstance(mod, torch.nn.BatchNorm2d) for mod in net.modules()) == 4
    with torch.no_grad():
        net.eval()
        assert net(torch.zeros(1, 3, 127, 127)).shape == (1, 256, 8, 8)
        assert net(torch.zeros(1, 3, 255, 255)).shape == (1, 256, 24, 24)


def test_mobilenet_v2_cut_and_imagenet_checkpoint(tmp_path):
    net = MobileNetV2Cut(cut=7)
    assert (net.out_channels, net.stride) == (32, 8)
    net.load_imagenet()
    state = load_imagenet_mobilenet_v2()
    assert torch.equal(net.features[0][0].weight, state['features.0.0.weight'])
    bad = tmp_path / 'mobilenet_v2.pth'
    bad.write_bytes(b'not the checkpoint')
    assert hashlib.sha256(bad.read_bytes()).hexdigest() != MOBILENET_V2_SHA256
    with pytest.raises(ValueError, match='sha256'):
        load_imagenet_mobilenet_v2(bad)


def test_model_args_are_strict():
    with pytest.raises(ValueError, match='unknown MLT model argument'):
        MLTModelArgs.from_dict({'backbone': 'mobilenet_v2', 'widht': 3})
    with pytest.raises(ValueError, match='unknown backbone'):
        MLTModelArgs(backbone='resnet')


def test_frozen_prefix_graph_matches_eager_mode():
    net = MobileNetV2Cut(cut=5).eval()
    x = torch.rand(2, 3, 95, 95) * 255
    with torch.no_grad():
        ref = net(x)
        net.features[4].train()
        net.freeze_prefix(3, 95)
        assert not net.features[0].training and net.features[4].training
        net.features[4].eval()
        torch.testing.assert_close(net(x), ref, rtol=1e-4, atol=1e-4)
        net.freeze_prefix(0, 95)
        assert torch.equal(net(x), ref)
    assert not any(k.startswith('_frozen') for k in net.state_dict())


def test_quantized_graph_runs_int8_and_stays_close_to_float():
    torch.manual_seed(0)
    net = MobileNetV2Cut(cut=7).eval()
    net.load_imagenet()
    rng = np.random.default_rng(0)
    # Smooth random images (ImageNet-like statistics matter less than a spread of values).
    base = torch.from_numpy(rng.uniform(0, 255, (12, 3, 16, 16)).astype(np.float32))
    images = F.interpolate(base, size=(95, 95), mode='bilinear', align_corners=False)
    graph = quantized_graph(net, images[:8])
    assert 'quantized::' in str(graph.inlined_graph)
    with torch.no_grad():
        ref = net(images[8:])
        out = graph(images[8:])
    assert out.shape == ref.shape
    assert not torch.equal(out, ref)
    cos = F.cosine_similarity(out.flatten(1), ref.flatten(1), dim=1)
    assert cos.min() > 0.9, cos


def test_residual_adapter_starts_as_identity_and_learns():
    torch.manual_seed(0)
    plain = MobileNetV2Cut(cut=5).eval()
    adapted = MobileNetV2Cut(cut=5, adapter=1, adapter_hidden=8).eval()
    adapted.features.load_state_dict(plain.features.state_dict())
    assert isinstance(adapted.adapter[0], ResidualAdapter)
    x = torch.rand(2, 3, 63, 63) * 255
    with torch.no_grad():
        torch.testing.assert_close(adapted(x), plain(x))
    loss = adapted(x).square().mean()
    loss.backward()
    assert adapted.adapter[0].conv2.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='adapter'):
        MobileNetV2Cut(cut=7, adapter=9)
    # The committed default has no adapter, so its weights files hold no adapter tensors.
    assert not any('adapter' in k for k in MobileNetV2Cut(cut=7).state_dict())


def test_exemplar_weights_favour_the_target_box():
    w = exemplar_weights((16, 16), (40.0, 16.0), 8, 0.3)
    assert w.shape == (16, 16)
    assert float(w.mean()) == pytest.approx(1.0)
    # Positions 7 and 8 are 4 px from the centre, inside a 40x16 box; the corners are not.
    assert float(w[7, 7]) == pytest.approx(float(w.max()))
    assert float(w[0, 0]) == pytest.approx(float(w.min()))
    assert float(w[7, 7]) / float(w[0, 0]) == pytest.approx(1.0 / 0.3)
    # The box is wider than tall: the weights reach farther along x than along y.
    assert float(w[7, 10]) > float(w[10, 7])
    torch.testing.assert_close(exemplar_weights((16, 16), (40.0, 16.0), 8, 1.0),
                               torch.ones(16, 16))
    with pytest.raises(ValueError):
        exemplar_weights((16, 16), (40.0, 16.0), 8, 1.5)
    # A (B, 2) tensor of sizes gives one map per row, each the same as its pair's.
    batch = exemplar_weights((16, 16), torch.tensor([[40.0, 16.0], [16.0, 40.0]]), 8, 0.3)
    assert batch.shape == (2, 16, 16)
    torch.testing.assert_close(batch[0], w)
    torch.testing.assert_close(batch[1], w.T)
