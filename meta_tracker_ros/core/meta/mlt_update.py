# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
MLT's update steps: delta (eq. 2), minimum-entropy selection (eq. 5), online fine-tuning.

The fine-tuning of the last layer is the MLT-mt+ft baseline's (section 4.2.1).

The last layer's kernels are passed around as plain tensors (fast weights); the module's own
parameters are never changed.
"""

from __future__ import annotations

from typing import Sequence

from meta_tracker_ros.core.meta.maml import InnerLoop
from meta_tracker_ros.core.models.mlt import logistic_loss, MatchingNetwork
import numpy as np
import torch


def compute_delta(matching: MatchingNetwork, exemplar_feats: torch.Tensor,
                  context_feats: torch.Tensor, labels: torch.Tensor,
                  exemplar_mask: torch.Tensor | None = None) -> torch.Tensor:
    """
    Eq. 2: delta = -(1/M) sum_i d loss(f_w(x, z_i), g_i) / d w5, one per episode.

    exemplar_feats: (B, C, hz, wz); context_feats: (B, M, C, hx, wx); labels (B, M, H, W).
    Returns (B, K, C) with K = w5's kernels. Features are treated as constants: only w5 is
    differentiated, through a per-episode copy so episodes do not mix. exemplar_mask:
    (B, hz, wz) template position weights (exemplar_weights) or None.
    """
    b = exemplar_feats.shape[0]
    w5 = matching.last_weight().detach()
    weight = w5.unsqueeze(0).expand(b, -1, -1).clone().requires_grad_(True)
    with torch.enable_grad():
        response = matching.respond(exemplar_feats.detach(), context_feats.detach(), weight,
                                    exemplar_mask=exemplar_mask)
        loss = logistic_loss(response, labels).mean(dim=1).sum()
        (grad,) = torch.autograd.grad(loss, weight)
    return -grad


def response_entropies(logits: torch.Tensor) -> torch.Tensor:
    """
    Entropies (eq. 5) of response maps (..., H, W), each normalised over its positions.

    The normalisation p(.) is a softmax of the logits (the paper names only 'the normalization
    function'); one clear peak gives a low entropy, several peaks or a plateau a high one.
    """
    log_p = torch.log_softmax(logits.flatten(-2), dim=-1)
    return -(log_p.exp() * log_p).sum(dim=-1)


def response_entropy(response: np.ndarray) -> float:
    """Entropy of one response map (H, W) normalised to a distribution (eq. 5)."""
    return float(response_entropies(torch.from_numpy(np.asarray(response, dtype=np.float64))))


def select_min_entropy(responses: Sequence[np.ndarray], m: int) -> list[int]:
    """Return the indices of the m lowest-entropy response maps, without replacement (eq. 5)."""
    if m < 1:
        raise ValueError(f'm must be positive, got {m}')
    # One map at a time: a frame that found the target again after the lost state's wider
    # search has a larger map than the others.
    entropies = np.array([response_entropy(r) for r in responses])
    return [int(i) for i in np.argsort(entropies, kind='stable')[:m]]


def finetune_last_layer(matching: MatchingNetwork, exemplar_feats: torch.Tensor,
                        context_feats: torch.Tensor, labels: torch.Tensor,
                        weight: torch.Tensor, steps: int, lr: float,
                        exemplar_mask: torch.Tensor | None = None) -> torch.Tensor:
    """
    MLT-mt+ft: `steps` Adam steps on the last-layer kernels, starting from weight.

    exemplar_feats: (1, C, hz, wz); context_feats: (1, M, C, hx, wx); labels (1, M, H, W);
    weight: (K, C); exemplar_mask: (1, hz, wz) template position weights or None. Returns
    the fine-tuned (K, C) kernels; the module is left unchanged.
    """
    # Adam on the fast weights through the shared engine (core.meta.maml), never meta-trained.
    fz, fx = exemplar_feats.detach(), context_feats.detach()

    def support_loss(fast: dict[str, torch.Tensor]) -> torch.Tensor:
        response = matching.respond(fz, fx, fast['w5'].unsqueeze(0), exemplar_mask=exemplar_mask)
        return logistic_loss(response, labels).mean()

    loop = InnerLoop({'w5': weight.shape}, steps=steps, lr=lr, optimizer='adam')
    return loop(support_loss, {'w5': weight}, meta_training=False)[-1]['w5']
