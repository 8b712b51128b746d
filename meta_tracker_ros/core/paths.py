# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Where weights files are looked up when a relative path or a tracker's default is asked for."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from meta_tracker_ros.core.weights import WeightsError

_REPO_ROOT = Path(__file__).resolve().parents[2]


def search_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    """Working directory, $META_TRACKER_WEIGHTS_DIR, extra dirs, the source tree's weights/."""
    dirs = [Path.cwd()]
    if os.environ.get('META_TRACKER_WEIGHTS_DIR'):
        dirs.append(Path(os.environ['META_TRACKER_WEIGHTS_DIR']))
    dirs += [Path(d) for d in extra]
    dirs += [_REPO_ROOT, _REPO_ROOT / 'weights']
    return dirs


def find_weights(path: str | Path, extra_dirs: Iterable[str | Path] = ()) -> Path:
    """Resolve a weights path: absolute as given, relative against search_dirs()."""
    p = Path(path).expanduser()
    if p.is_absolute():
        if not p.is_file():
            raise WeightsError(f'weights file not found: {p}')
        return p
    tried = []
    for d in search_dirs(extra_dirs):
        cand = d / p
        if cand.is_file():
            return cand
        tried.append(str(cand))
    raise WeightsError(f'weights file {str(p)!r} not found; looked in: {", ".join(tried)}')
