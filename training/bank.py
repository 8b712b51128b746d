# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A bank of backbone features of stage-2 episodes, reused across training steps.

Stage 2 keeps the matching network fixed (section 3.2.2), so the features of an augmented
context patch do not change during training. On a CPU, rendering, cropping and running the
backbone on 8 x 17 images per step costs ~10x more than the meta-learner's step, so the bank
holds `slots` episodes of `contexts` augmented patches each (more than M'), replaces a few of
them per step, and draws each batch's episodes and their M' patches at random from it. This
deviates from the paper's fresh sampling per step to fit the 90-minute CPU budget; every
episode is still M' patches of one trajectory, augmented independently.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from training.samplers import EpisodeSampler


class FeatureBank:
    """Features of augmented episodes: exemplar (C, hz, wz), contexts (N, C, hx, wx)."""

    def __init__(self, sampler: EpisodeSampler, features: Callable[[torch.Tensor], torch.Tensor],
                 slots: int, refresh: int) -> None:
        if slots < 1 or refresh < 0:
            raise ValueError(f'bank needs slots >= 1 and refresh >= 0, got {slots}, {refresh}')
        self.sampler, self.features = sampler, features
        self.slots, self.refresh_count = slots, refresh
        self._fz: list[torch.Tensor] = []
        self._fx: list[torch.Tensor] = []
        self._off: list[torch.Tensor] = []
        self._wh: list[torch.Tensor] = []
        self._next = 0

    def _episode(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor,
                                                          torch.Tensor, torch.Tensor]:
        s = self.sampler.sample(rng)
        with torch.no_grad():
            fz = self.features(torch.from_numpy(s['exemplar'][None]))[0]
            fx = self.features(torch.from_numpy(s['search']))
        # float16 halves the bank's memory; features are small-valued activations.
        return fz.half(), fx.half(), torch.from_numpy(s['offset']), torch.from_numpy(
            s['exemplar_wh'])

    def fill(self, rng: np.random.Generator, progress: Callable | None = None) -> None:
        """Fill every slot (at start and after a resume)."""
        self._fz, self._fx, self._off, self._wh = [], [], [], []
        for _ in (progress(range(self.slots)) if progress else range(self.slots)):
            fz, fx, off, wh = self._episode(rng)
            self._fz.append(fz)
            self._fx.append(fx)
            self._off.append(off)
            self._wh.append(wh)
        self._next = 0

    def refresh(self, rng: np.random.Generator) -> None:
        """Replace the oldest `refresh` slots with new episodes."""
        for _ in range(self.refresh_count):
            i = self._next
            self._fz[i], self._fx[i], self._off[i], self._wh[i] = self._episode(rng)
            self._next = (i + 1) % self.slots

    def batch(self, rng: np.random.Generator, batch_size: int,
              contexts: int) -> dict[str, torch.Tensor]:
        """batch_size distinct episodes with `contexts` (M') of their patches each."""
        if not self._fz:
            raise RuntimeError('fill() the bank first')
        picks = rng.choice(self.slots, size=batch_size, replace=batch_size > self.slots)
        fz, fx, off = [], [], []
        for i in picks:
            n = self._fx[i].shape[0]
            j = torch.from_numpy(rng.choice(n, size=contexts, replace=contexts > n))
            fz.append(self._fz[i].float())
            fx.append(self._fx[i][j].float())
            off.append(self._off[i][j])
        return {'exemplar_feats': torch.stack(fz), 'search_feats': torch.stack(fx),
                'offset': torch.stack(off),
                'exemplar_wh': torch.stack([self._wh[i] for i in picks])}
