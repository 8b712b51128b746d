# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ament_flake8 over the package, tests, training and launch files (ROS 2 settings)."""

from pathlib import Path

from ament_flake8.main import main_with_errors
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8():
    paths = [str(ROOT / p) for p in ('meta_tracker_ros', 'test', 'training', 'launch',
                                     'benchmarks', 'scripts', 'setup.py')
             if (ROOT / p).exists()]
    rc, errors = main_with_errors(argv=paths)
    assert rc == 0, 'Found %d code style errors / warnings:\n' % len(errors) + '\n'.join(errors)
