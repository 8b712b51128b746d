# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Inner loops over fast-weight dicts (torch.func.functional_call) and learned step sizes."""
