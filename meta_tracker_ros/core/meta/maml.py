# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The meta-learning engine every tracker family shares: an inner loop over fast weights.

Fast weights are a plain dict name -> tensor (torch.func style); the module is never mutated.
A family chooses by name which of its parameters adapt (`select_parameters`), writes its
support and query losses as functions of that dict (`functional` runs the module with it, via
torch.func.functional_call), and calls one `InnerLoop`:

- k steps of gradient descent (MAML, Finn et al. 2017, eq. 1) or of Adam (MLT-mt+ft's online
  fine-tuning, Choi et al. 2019, section 4.2.1);
- learning rates fixed, one learnable per tensor, one learnable per output kernel (the KLLR of
  Wang et al. 2020, "Tracking by Instance Detection", eq. 5) or one learnable per element
  (Meta-SGD, Li et al. 2017: alpha of the parameter's shape);
- the trajectory theta_0..theta_k comes back, so the multi-step loss of eq. 4 (theta_0
  included, weights gamma_k annealed towards (0.05, 0.10, 0.2, 0.30, 0.35)) is one call;
- the graph through the inner loop is kept only while meta-training with second order; the
  first-order switch drops the second derivatives but keeps the path to theta_0 and to the
  learning rates (theta_k = theta_0 - alpha * g, g treated as a constant). Outside
  meta-training (tracking) every step is detached, whatever the caller's grad mode.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
import math
from typing import Callable, Mapping, Sequence

import torch
from torch import nn
from torch.func import functional_call

FastWeights = dict[str, torch.Tensor]
LossFn = Callable[[FastWeights], torch.Tensor]

LR_MODES = ('fixed', 'scalar', 'kernel', 'parameter')
OPTIMIZERS = ('sgd', 'adam')
# Wang et al. 2020, section 4.1: the step weights gamma_k of a 4-step inner loop at the end of
# training (equal at the start).
FINAL_STEP_WEIGHTS = (0.05, 0.10, 0.2, 0.30, 0.35)


def select_parameters(module: nn.Module, patterns: Sequence[str]) -> dict[str, nn.Parameter]:
    """
    Return the module's parameters whose names match any fnmatch pattern, in module order.

    A pattern that matches nothing is an error: a renamed layer must not silently stop
    adapting.
    """
    named = dict(module.named_parameters())
    chosen = {}
    for pattern in patterns:
        hits = [n for n in named if fnmatchcase(n, pattern)]
        if not hits:
            raise ValueError(f'no parameter of {type(module).__name__} matches {pattern!r} '
                             f'(names: {", ".join(named) or "none"})')
        chosen.update({n: named[n] for n in hits})
    return {n: named[n] for n in named if n in chosen}


def functional(module: nn.Module, fast: Mapping[str, torch.Tensor], *args, **kwargs):
    """Run module with the fast weights in place of its own (the others are its own)."""
    return functional_call(module, dict(fast), args, kwargs, strict=False)


def lr_shape(shape: torch.Size, mode: str) -> tuple[int, ...]:
    """
    Return the shape of the learnable learning rate of a parameter of this shape.

    'kernel' (KLLR): one per output kernel, i.e. along dim 0 (a conv's C_out, a linear layer's
    outputs, a bias's entries), broadcast over the rest; 'parameter' (Meta-SGD): the
    parameter's own shape; 'scalar' and 'fixed': one.
    """
    if mode == 'parameter':
        return tuple(shape)
    if mode == 'kernel' and len(shape) > 0:
        return (shape[0],) + (1,) * (len(shape) - 1)
    if mode in LR_MODES:
        return ()
    raise ValueError(f'lr_mode must be one of {LR_MODES}, got {mode!r}')


def _key(name: str) -> str:
    # ParameterDict keys cannot hold dots.
    return name.replace('.', '__')


class InnerLoop(nn.Module):
    """
    k steps on a fast-weight dict, with learning rates learnable per tensor, kernel or element.

    shapes: name -> shape of each adapted tensor (`select_parameters` gives them). The learning
    rates are this module's parameters (`lr.<name>`), so an outer optimiser trains them with
    the rest; with lr_mode 'fixed' there are none. Adam (optimizer 'adam') keeps its moments
    per call, as a fresh torch.optim.Adam would, and equals it step for step.
    """

    def __init__(self, shapes: Mapping[str, torch.Size | Sequence[int]], *, steps: int = 1,
                 lr: float = 1e-3, lr_mode: str = 'fixed', first_order: bool = False,
                 optimizer: str = 'sgd', betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__()
        if steps < 0:
            raise ValueError(f'steps must be >= 0, got {steps}')
        if optimizer not in OPTIMIZERS:
            raise ValueError(f'optimizer must be one of {OPTIMIZERS}, got {optimizer!r}')
        if not shapes:
            raise ValueError('no parameters to adapt')
        self.names = list(shapes)
        self.steps, self.lr_mode, self.first_order = steps, lr_mode, first_order
        self.optimizer, self.betas, self.eps = optimizer, betas, eps
        self.base_lr = float(lr)
        self.lr = nn.ParameterDict()
        for name, shape in shapes.items():
            size = lr_shape(torch.Size(shape), lr_mode)
            if lr_mode != 'fixed':
                self.lr[_key(name)] = nn.Parameter(torch.full(size, float(lr)))

    @classmethod
    def for_module(cls, module: nn.Module, patterns: Sequence[str], **kwargs) -> InnerLoop:
        """Build an inner loop over the parameters of module that match patterns."""
        return cls({n: p.shape for n, p in select_parameters(module, patterns).items()},
                   **kwargs)

    def learning_rate(self, name: str) -> torch.Tensor | float:
        """Return alpha of one adapted tensor: a float (fixed) or a tensor broadcast to it."""
        return self.base_lr if self.lr_mode == 'fixed' else self.lr[_key(name)]

    def initial(self, module: nn.Module) -> FastWeights:
        """theta_0: the module's own tensors of the adapted names (not copies)."""
        named = dict(module.named_parameters())
        return {n: named[n] for n in self.names}

    def forward(self, loss_fn: LossFn, fast: Mapping[str, torch.Tensor], *,
                steps: int | None = None, meta_training: bool | None = None
                ) -> list[FastWeights]:
        """
        Adapt: the trajectory [theta_0, ..., theta_k] of k = steps (default self.steps).

        fast may hold a subset of the adapted names (those adapt, e.g. one branch only).
        loss_fn(fast) -> scalar support loss. meta_training (default: this module's training
        flag and grad mode both on) keeps the graph so an outer loss can reach theta_0 and the
        learning rates; otherwise theta_0 is detached, each step is computed with grad on and
        detached, and nothing else is kept.
        """
        steps = self.steps if steps is None else steps
        if not fast or not set(fast) <= set(self.names):
            raise ValueError(f'fast weights {sorted(fast)} are not among the adapted '
                             f'{sorted(self.names)}')
        if meta_training is None:
            meta_training = self.training and torch.is_grad_enabled()
        theta = {n: fast[n] for n in self.names if n in fast}
        if not meta_training:
            theta = {n: t.detach() for n, t in theta.items()}
        trajectory = [theta]
        moments = {n: (torch.zeros_like(t), torch.zeros_like(t)) for n, t in theta.items()}
        with torch.enable_grad():
            for k in range(1, steps + 1):
                inputs = {n: (t if t.requires_grad else t.detach().requires_grad_(True))
                          for n, t in theta.items()}
                loss = loss_fn(inputs)
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f'inner-loop loss is {float(loss.detach())} at step {k}')
                create_graph = meta_training and not self.first_order
                grads = torch.autograd.grad(loss, list(inputs.values()),
                                            create_graph=create_graph)
                new = {}
                for (name, t), g in zip(inputs.items(), grads):
                    if not create_graph:
                        g = g.detach()
                    base = t if meta_training else t.detach()
                    new[name] = base - self._step(name, g, moments, k)
                    if not meta_training:
                        new[name] = new[name].detach()
                theta = new
                trajectory.append(theta)
        return trajectory

    def _step(self, name: str, grad: torch.Tensor,
              moments: dict[str, tuple[torch.Tensor, torch.Tensor]], k: int) -> torch.Tensor:
        alpha = self.learning_rate(name)
        if self.optimizer == 'sgd':
            return alpha * grad
        # torch.optim.Adam's update, written out so it can be differentiated.
        b1, b2 = self.betas
        m, v = moments[name]
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad * grad
        moments[name] = (m, v)
        denom = v.sqrt() / math.sqrt(1 - b2 ** k) + self.eps
        return alpha / (1 - b1 ** k) * m / denom


def step_loss_weights(steps: int, progress: float,
                      final: Sequence[float] | None = None) -> list[float]:
    """
    gamma_0..gamma_k of the multi-step loss (eq. 4): equal at progress 0, `final` at 1.

    final defaults to the paper's (0.05, 0.10, 0.2, 0.30, 0.35) for a 4-step loop and to
    weights rising in proportion to k + 1 for other step counts (ours: the paper gives only
    the 4-step one). Linear in progress (the paper says only 'gradually anneal').
    """
    n = steps + 1
    if final is None:
        final = FINAL_STEP_WEIGHTS if n == len(FINAL_STEP_WEIGHTS) else \
            [(k + 1) / (n * (n + 1) / 2) for k in range(n)]
    if len(final) != n:
        raise ValueError(f'{len(final)} final step weights for {n} trajectory points')
    p = min(max(float(progress), 0.0), 1.0)
    return [(1 - p) / n + p * float(f) for f in final]


def multi_step_loss(trajectory: Sequence[FastWeights], loss_fn: LossFn,
                    weights: Sequence[float]) -> torch.Tensor:
    """Eq. 4: sum_k gamma_k L(theta_k) over the trajectory, theta_0 included."""
    if len(weights) != len(trajectory):
        raise ValueError(f'{len(weights)} step weights for {len(trajectory)} trajectory points')
    total = None
    for gamma, theta in zip(weights, trajectory):
        if gamma == 0:
            continue
        term = gamma * loss_fn(theta)
        total = term if total is None else total + term
    if total is None:
        raise ValueError('every step weight is zero')
    return total
