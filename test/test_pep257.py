# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ament_pep257 docstring conventions."""

from pathlib import Path

from ament_pep257.main import main
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257():
    paths = [str(ROOT / p) for p in ('meta_tracker_ros', 'test', 'training', 'launch',
                                     'benchmarks', 'scripts') if (ROOT / p).exists()]
    assert main(argv=paths) == 0, 'Found code style errors / warnings'
