#!/usr/bin/env bash
# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# Training-only setup: the photo sources the photo suites (synth-photo-train, photo-dev,
# synth-photo-test) need besides scikit-image and matplotlib, all from package registries:
# Debian's opencv-doc (photos and videos under /usr/share/doc/opencv-doc) and scikit-learn's
# sample images (pinned in meta_tracker_ros/data/photos.py). `make demo` and `make test` never
# need them. Idempotent; run after scripts/setup.sh (`make setup-training` does both).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
if [ ! -x "$PY" ]; then
  echo "setup-training: no venv at $VENV; run 'make setup' first" >&2
  exit 1
fi

if [ ! -d /usr/share/doc/opencv-doc/examples/data ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    sudo="sudo"
  fi
  echo "setup-training: installing Debian's opencv-doc (photos and videos)"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    opencv-doc
  if [ ! -d /usr/share/doc/opencv-doc/examples/data ]; then
    echo "setup-training: opencv-doc is installed but /usr/share/doc/opencv-doc/examples/data" \
         "is absent: dpkg may exclude /usr/share/doc (see /etc/dpkg/dpkg.cfg.d/); allow" \
         "/usr/share/doc/opencv-doc/* there and reinstall opencv-doc" >&2
    exit 1
  fi
fi

pin=$("$PY" -c 'from meta_tracker_ros.data.photos import SKLEARN_PIN; print(SKLEARN_PIN)')
echo "setup-training: pip install $pin (sample images china.jpg, flower.jpg)"
# shellcheck disable=SC2086  # the pin is a list of requirements
"$PY" -m pip install --quiet --no-deps $pin

# the pool per source and split; fails when a source is still missing
"$PY" -c 'import sys; from meta_tracker_ros.data import photos; sys.exit(photos.main())'
