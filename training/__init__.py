# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Training of the meta-learned trackers: datasets, episode samplers, objectives, outer loops.

One CLI: ``python -m training.train --config training/configs/X.yaml``. Imports core, never
ROS.
"""
