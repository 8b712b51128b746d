# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Test-wide settings: isolate ROS 2 traffic and logs per pytest process."""

import os
import tempfile

import pytest

# One DDS domain per pytest process, discovery on this host only, logs in a temp dir, so
# parallel runs and other ROS users on the machine never see each other's topics.
os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.setdefault('ROS_LOG_DIR', tempfile.mkdtemp(prefix='ros_log_'))
os.environ.setdefault('MPLBACKEND', 'Agg')
# Make rosidl check field types, so an int in a float64 field fails loudly in tests.
os.environ['ROS_PYTHON_CHECK_FIELDS'] = '1'


@pytest.fixture(scope='module')
def ros_context():
    """Initialise rclpy for one test module (use with pytest.mark.usefixtures)."""
    import rclpy
    rclpy.init()
    yield
    rclpy.try_shutdown()
