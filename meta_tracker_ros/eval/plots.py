# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Success, precision and per-attribute plots (matplotlib, Agg backend, PNG).

Figures are drawn on their own Agg canvas (no pyplot), so plotting never touches the
process-wide backend and works without a display.

Curves are drawn as got10k's ExperimentOTB.plot_curves draws them: one line per tracker,
sorted by the score shown in the legend ('name [0.xxx]'), AUC for success plots, the
value at 20 px for precision plots and at 0.2 for normalised precision.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from meta_tracker_ros.eval.metrics import THRESHOLDS_CENTER, THRESHOLDS_IOU, THRESHOLDS_NORM
import numpy as np

_STYLES = [c + m for m in ('-', '--', '-.') for c in [''] * 10]


def _figure() -> tuple[Figure, Axes]:
    fig = Figure(figsize=(6.0, 4.5))
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _finish(fig: Figure, ax: Axes, path: Path, **labels: object) -> Path:
    ax.set(ylim=(0, 1), **labels)
    ax.grid(True)
    ax.legend(loc='center left', bbox_to_anchor=(1, 0.5), fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches='tight', dpi=120)
    return path


def plot_curves(curves: Mapping[str, np.ndarray], thresholds: np.ndarray,
                scores: Mapping[str, float], path: Path, *, title: str, xlabel: str,
                ylabel: str) -> Path:
    """One line per tracker, legend 'name [score]', best score first."""
    fig, ax = _figure()
    for i, name in enumerate(sorted(curves, key=lambda k: -np.nan_to_num(scores[k], nan=-1))):
        ax.plot(thresholds, curves[name], _STYLES[i % len(_STYLES)],
                label=f'{name} [{scores[name]:.3f}]')
    return _finish(fig, ax, path, xlim=(thresholds[0], thresholds[-1]), title=title,
                   xlabel=xlabel, ylabel=ylabel)


def success_plot(curves: Mapping[str, np.ndarray], path: Path, title: str) -> Path:
    """Success plot; legend score = AUC (mean of the curve)."""
    return plot_curves(curves, THRESHOLDS_IOU, {k: float(np.mean(v)) for k, v in curves.items()},
                       path, title=title, xlabel='Overlap threshold', ylabel='Success rate')


def precision_plot(curves: Mapping[str, np.ndarray], path: Path, title: str) -> Path:
    """Precision plot; legend score = precision at 20 px."""
    return plot_curves(curves, THRESHOLDS_CENTER, {k: float(v[20]) for k, v in curves.items()},
                       path, title=title, xlabel='Location error threshold (px)',
                       ylabel='Precision')


def norm_precision_plot(curves: Mapping[str, np.ndarray], path: Path, title: str) -> Path:
    """Normalised precision plot; legend score = value at 0.2."""
    return plot_curves(curves, THRESHOLDS_NORM, {k: float(v[20]) for k, v in curves.items()},
                       path, title=title, xlabel='Normalised location error threshold',
                       ylabel='Normalised precision')


def expected_overlap_plot(curves: Mapping[str, np.ndarray], eao: Mapping[str, float],
                          interval: tuple[int, int], path: Path, title: str) -> Path:
    """Plot expected overlap against sequence length, with the EAO interval shaded."""
    fig, ax = _figure()
    for i, name in enumerate(sorted(curves, key=lambda k: -np.nan_to_num(eao[k], nan=-1))):
        c = np.asarray(curves[name])
        ax.plot(np.arange(1, len(c) + 1), c, _STYLES[i % len(_STYLES)],
                label=f'{name} [{eao[name]:.3f}]')
    ax.axvspan(interval[0], interval[1], color='0.9')
    return _finish(fig, ax, path, title=title, xlabel='Sequence length (frames)',
                   ylabel='Expected overlap')


def mask_success(j: list[float] | np.ndarray) -> np.ndarray:
    """Share of a sequence's frames whose J (mask IoU) exceeds each of THRESHOLDS_IOU."""
    j = np.asarray(j, dtype=np.float64)
    if j.size == 0:
        return np.zeros(len(THRESHOLDS_IOU))
    return (j[None, :] > THRESHOLDS_IOU[:, None]).mean(axis=1)


def mask_success_plot(curves: Mapping[str, np.ndarray], jf: Mapping[str, float],
                      box_auc: Mapping[str, float], path: Path, title: str) -> Path:
    """Success plot of the masks' J; legend 'name [J&F, box AUC]', best J&F first."""
    fig, ax = _figure()
    for i, name in enumerate(sorted(curves, key=lambda k: -np.nan_to_num(jf[k], nan=-1))):
        ax.plot(THRESHOLDS_IOU, curves[name], _STYLES[i % len(_STYLES)],
                label=f'{name} [J&F {jf[name]:.3f}, box AUC {box_auc[name]:.3f}]')
    return _finish(fig, ax, path, xlim=(0, 1), title=title,
                   xlabel='Region similarity J threshold', ylabel='Share of frames')
