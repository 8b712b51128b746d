#!/usr/bin/env bash
# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# Create or update the project venv: pinned requirements, this package (editable), and our
# vision_msgs build when no ROS 2 distro provides vision_msgs. Idempotent: when nothing changed
# it only checks, in a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
stamp="$VENV/.setup-stamp"

distro=0
if [ -n "${ROS_DISTRO:-}" ] && "$PYTHON" -c 'import rclpy' 2>/dev/null; then
  distro=1
  echo "setup: using the sourced ROS 2 $ROS_DISTRO for rclpy and messages"
fi
want="$(cat requirements.txt setup.py setup.cfg | sha256sum | cut -c1-16)-distro$distro"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  echo "setup: $VENV is up to date"
else
  if [ ! -x "$VENV/bin/python" ]; then
    if [ "$distro" = 1 ]; then
      "$PYTHON" -m venv --system-site-packages "$VENV"
    else
      "$PYTHON" -m venv "$VENV"
    fi
  fi
  reqs=requirements.txt
  if [ "$distro" = 1 ]; then
    reqs="$VENV/requirements-distro.txt"
    grep -v '^ros-' requirements.txt > "$reqs"
  fi
  # torch and its libraries fill about 6 GiB: say so up front, not halfway through pip.
  free_kib=$(df -Pk "$(dirname "$VENV")" 2>/dev/null | awk 'NR == 2 {print $4}' || true)
  if [ "${free_kib:-999999999}" -lt $((7 * 1024 * 1024)) ]; then
    echo "setup: only $((free_kib / 1024)) MiB free for $VENV; the pinned requirements need" \
         "about 7 GiB (torch). Free some space and run make again." >&2
    exit 1
  fi
  echo "setup: installing pinned requirements into $VENV (torch is large: a minute or two)"
  "$VENV/bin/python" -m pip install --quiet --no-deps -r "$reqs"
  "$VENV/bin/python" -m pip install --quiet --no-deps --use-pep517 --no-build-isolation -e .
  echo "$want" > "$stamp"
fi
# Inside a colcon workspace, never crawl the venv (the ROS wheels ship package.xml files) or
# our vision_msgs build tree.
mkdir -p build
touch "$VENV/COLCON_IGNORE" build/COLCON_IGNORE
"$VENV/bin/python" scripts/build_vision_msgs.py
