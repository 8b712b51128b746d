# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Importing this package registers every tracker."""

from meta_tracker_ros.core.trackers import maml_detector  # noqa: F401
from meta_tracker_ros.core.trackers import metacrest  # noqa: F401
from meta_tracker_ros.core.trackers import metasdnet  # noqa: F401
from meta_tracker_ros.core.trackers import mlt  # noqa: F401
from meta_tracker_ros.core.trackers import opencv_trackers  # noqa: F401
from meta_tracker_ros.core.trackers import trackmlp  # noqa: F401
