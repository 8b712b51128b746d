# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Retina-MAML's and FCOS-MAML's detector: shapes, targets, losses, adaptation."""

from meta_tracker_ros.core.meta.maml import functional, InnerLoop
from meta_tracker_ros.core.models.maml_detector import (ADAPT, box_iou, DetectorArgs,
                                                        fcos_targets, MAMLDetector,
                                                        retina_targets)
import pytest
import torch


def _detector(head: str, **kw) -> MAMLDetector:
    torch.manual_seed(0)
    return MAMLDetector(DetectorArgs(head=head, channels=16, input_size=135, **kw))


@pytest.mark.parametrize('head', ['retina', 'fcos'])
def test_shapes_and_branch_copies(head):
    det = _detector(head)
    assert det.output_size() == 17 and det.stride == 8
    cls, reg = det(torch.rand(2, 3, 135, 135) * 255)
    assert cls.shape == (2, 17, 17) and reg.shape == (2, 4, 17, 17)
    # Independent copies of the last block, one per branch (section 4.1).
    a, b = det.cls_block[0].conv[0][0].weight, det.reg_block[0].conv[0][0].weight
    assert torch.equal(a, b) and a.data_ptr() != b.data_ptr()
    # Features computed once give the same outputs.
    x = torch.rand(1, 3, 135, 135) * 255
    c1, r1 = det(x)
    c2, r2 = det(det.features(x), 'features')
    c3, r3 = det(det.branches(det.features(x)), 'branches')
    for c, r in ((c2, r2), (c3, r3)):
        torch.testing.assert_close(c1, c)
        torch.testing.assert_close(r1, r)
    with pytest.raises(ValueError, match='level'):
        det(x, 'pixels')


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match='head'):
        DetectorArgs(head='yolo')
    with pytest.raises(ValueError, match='shared'):
        DetectorArgs(shared=7, cut=7)
    with pytest.raises(ValueError, match='unknown'):
        DetectorArgs.from_dict({'heads': 'fcos'})


@pytest.mark.parametrize('head', ['retina', 'fcos'])
def test_targets_decode_back_to_the_box(head):
    det = _detector(head)
    box = torch.tensor([[40.0, 50.0, 104.0, 94.0]])  # centred on position (9, 9)
    if head == 'retina':
        labels, offsets, iou = retina_targets(box, det.centres, det.args)
        decoded = det.decode(offsets)
        pos = labels[0] > 0
        assert pos.sum() >= 1 and (iou[0][labels[0] == 0] < 0.3).all()
    else:
        centreness, d, inside = fcos_targets(box, det.centres)
        # The inverse of _distances: log(d / (anchor / 2)).
        reg = torch.log(d.clamp(min=1e-3) / (det.args.anchor / 2))
        decoded = det.decode(reg)
        pos = inside[0]
        assert float(centreness[0].max()) == pytest.approx(1.0)
        assert float(centreness[0][~inside[0]].max()) == 0
    boxes = decoded[0].permute(1, 2, 0)[pos]
    assert float(box_iou(boxes, box).min()) > 0.999


@pytest.mark.parametrize('head', ['retina', 'fcos'])
def test_inner_loop_on_the_heads_lowers_the_support_loss(head):
    det = _detector(head)
    det.train()
    torch.manual_seed(1)
    images = torch.rand(3, 3, 135, 135) * 255
    boxes = torch.tensor([[40.0, 40.0, 96.0, 96.0]]).repeat(3, 1)
    feats = det.features(images).detach()

    def support_loss(fast):
        cls, reg = functional(det, fast, feats, 'features')
        return det.loss(cls, reg, boxes)[0]

    loop = InnerLoop.for_module(det, ADAPT['all'], steps=5, lr=0.05, lr_mode='kernel')
    before = {n: p.detach().clone() for n, p in det.named_parameters()}
    trajectory = loop(support_loss, loop.initial(det))
    losses = [float(support_loss(t).detach()) for t in trajectory]
    assert losses[-1] < losses[0]
    # The meta-gradient reaches the copied blocks (trained offline, not adapted) and the rates.
    grads = torch.autograd.grad(support_loss(trajectory[-1]),
                                [det.cls_block[0].conv[0][0].weight,
                                 loop.lr['cls_head__0__weight']])
    assert all(float(g.abs().sum()) > 0 for g in grads)
    assert all(torch.equal(p, before[n]) for n, p in det.named_parameters())
    # Batch norm keeps its statistics in training mode.
    assert not any(m.training for m in det.modules() if isinstance(m, torch.nn.BatchNorm2d))
