# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""nn.Modules shared by tracking and training: backbones, heads, meta-learners."""
