# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""core/, eval/, data/ and training/ never import ROS (rule of the house)."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize('module', ['meta_tracker_ros.core', 'meta_tracker_ros.core.trackers',
                                    'meta_tracker_ros.eval', 'meta_tracker_ros.data'])
def test_module_imports_without_ros(module):
    code = (f'import sys, importlib; importlib.import_module({module!r}); '
            'import meta_tracker_ros.core.registry as r; r.available_trackers(); '
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('rclpy', 'rosidl_runtime_py', 'sensor_msgs', 'vision_msgs', 'std_msgs')); "
            'print(bad); sys.exit(1 if bad else 0)')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
