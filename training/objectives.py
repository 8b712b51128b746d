# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Objectives `batch -> (loss, stats)` for MLT's two training stages (paper section 3.2).

batch: 'exemplar' (B, 3, 127, 127), 'search' (B, S, 3, 255, 255) float in [0, 255],
'offset' (B, S, 2) target centre relative to the search centre in search pixels,
'exemplar_wh' (B, 2) the target's size in the exemplar.

exemplar_background < 1 weighs the exemplar template's positions off the target box that much
(core.models.mlt.exemplar_weights), as the tracker does (MLT's exemplar_background); 1 is the
paper's template, every position alike.
"""

from __future__ import annotations

from typing import Callable

from meta_tracker_ros.core.meta.mlt_update import compute_delta, response_entropies
from meta_tracker_ros.core.models.mlt import (exemplar_weights, logistic_loss, MatchingNetwork,
                                              response_labels)
import torch
from torch import nn


def labels_for(matching: MatchingNetwork, offsets: torch.Tensor) -> torch.Tensor:
    """(B, S, H, W) ground-truth maps g for the given target offsets."""
    return response_labels(matching.response_size, matching.stride, offsets,
                           matching.args.pos_radius)


def exemplar_mask(matching: MatchingNetwork, batch: dict[str, torch.Tensor],
                  background: float) -> torch.Tensor | None:
    """(B, hz, wz) template position weights of a batch, or None when background is 1."""
    if background >= 1.0:
        return None
    size = matching.exemplar_feat_size
    return exemplar_weights((size, size), batch['exemplar_wh'], matching.stride, background)


def peak_errors(response: torch.Tensor, offsets: torch.Tensor, stride: int) -> torch.Tensor:
    """Distance (search pixels) from each map's peak to the target: (..., H, W), (..., 2)."""
    size = response.shape[-1]
    peak = response.flatten(-2).argmax(dim=-1)
    centre = (size - 1) / 2.0
    xy = torch.stack([peak % size, peak // size], dim=-1).to(offsets.dtype)
    return ((xy - centre) * stride - offsets).norm(dim=-1)


def matching_objective(model: nn.Module, matching: MatchingNetwork,
                       batch: dict[str, torch.Tensor],
                       background: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Stage 1 (section 3.2.1): eq. 6 on (x, z) pairs. model is matching or its DDP wrapper."""
    mask = exemplar_mask(matching, batch, background)
    response = model(batch['exemplar'], batch['search'], mask)
    labels = labels_for(matching, batch['offset'])
    loss = logistic_loss(response, labels).mean()
    with torch.no_grad():
        err = peak_errors(response, batch['offset'].to(response.dtype), matching.stride)
        hit = err <= matching.args.pos_radius
    return loss, {'loss': float(loss.detach()), 'peak_hit': float(hit.float().mean())}


def episode_features(features: Callable[[torch.Tensor], torch.Tensor],
                     batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """
    Backbone features of an image batch for meta_objective (the matching network is fixed).

    Returns 'exemplar_feats' (B, C, hz, wz), 'search_feats' (B, S, C, hx, wx), 'offset'.
    """
    with torch.no_grad():
        fz = features(batch['exemplar'])
        b, s = batch['search'].shape[:2]
        fx = features(batch['search'].flatten(0, 1))
    return {'exemplar_feats': fz, 'search_feats': fx.view(b, s, *fx.shape[1:]),
            'offset': batch['offset'], 'exemplar_wh': batch['exemplar_wh']}


def support_first(matching: MatchingNetwork, batch: dict[str, torch.Tensor], support: int,
                  background: float = 1.0) -> dict[str, torch.Tensor]:
    """
    Put first in each episode the `support` (M) context patches the tracker would choose.

    Those are the patches whose responses under the fixed matching network have the lowest
    entropy (eq. 5); the others keep their order, and offsets move with their patches. The
    paper says only that M patches "are chosen" from z_reg; the tracker chooses them by
    minimum entropy, so training does the same (training config support_selection).
    """
    with torch.no_grad():
        mask = exemplar_mask(matching, batch, background)
        logits = matching.respond(batch['exemplar_feats'], batch['search_feats'],
                                  exemplar_mask=mask)
        order = torch.argsort(response_entropies(logits), dim=1, stable=True)
    first = order[:, :support]
    rest = torch.sort(order[:, support:], dim=1).values
    order = torch.cat([first, rest], dim=1)
    out = dict(batch)
    for key in ('search_feats', 'offset'):
        idx = order.view(*order.shape, *([1] * (batch[key].dim() - 2)))
        out[key] = batch[key].gather(1, idx.expand(-1, -1, *batch[key].shape[2:]))
    return out


def meta_objective(meta_learner: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
                   matching: MatchingNetwork, batch: dict[str, torch.Tensor],
                   support: int, background: float = 1.0) -> tuple[torch.Tensor,
                                                                   dict[str, float]]:
    """
    Stage 2 (section 3.2.2, eq. 7) with the matching network fixed.

    batch: features from episode_features or the feature bank. delta (eq. 2) comes from the
    first `support` (M) context patches; the loss of the adapted network is taken on all M'
    patches (the paper's regulariser M' = 2M). meta_learner is the MetaLearner or its DDP
    wrapper.
    """
    fz, fx = batch['exemplar_feats'], batch['search_feats']
    b, s = fx.shape[:2]
    labels = labels_for(matching, batch['offset'])
    mask = exemplar_mask(matching, batch, background)
    delta = compute_delta(matching, fz, fx[:, :support], labels[:, :support], mask)
    w_target, attention = meta_learner(delta)
    w5 = matching.last_weight().detach().unsqueeze(0).expand(b, -1, -1)
    weight = torch.cat([w5, w_target], dim=1)
    per_map = logistic_loss(matching.respond(fz, fx, weight, attention, mask), labels)
    loss = per_map.mean()
    with torch.no_grad():
        base = logistic_loss(matching.respond(fz, fx, exemplar_mask=mask), labels)
        held = slice(support, s)
        stats = {
            'loss': float(loss.detach()),
            'loss_base': float(base.mean()),
            'loss_heldout': float(per_map[:, held].mean()) if s > support else float('nan'),
            'loss_heldout_base': float(base[:, held].mean()) if s > support else float('nan'),
            'delta_rms': float(delta.pow(2).mean().sqrt()),
        }
    return loss, stats
