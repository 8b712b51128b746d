# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# The two commands of the README: `make demo` and `make test`. Both set everything up first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup setup-training demo test test-fast lint data data-photos eval-baselines bench \
	clean

setup:
	@VENV=$(VENV) bash scripts/setup.sh

# Training-only photo sources (Debian's opencv-doc, scikit-learn's sample images) for the photo
# suites; `make demo` and `make test` never need them.
setup-training: setup
	@VENV=$(VENV) bash scripts/setup_training.sh

demo: setup
	$(PY) -m meta_tracker_ros.tools.demo

test: setup
	$(PY) -m pytest -q test

test-fast: setup
	$(PY) -m pytest -q test -m "not slow"

lint: setup
	$(PY) -m pytest -q test/test_flake8.py test/test_pep257.py test/test_copyright.py test/test_xmllint.py

# Procedural suites for tuning and evaluation (written once to ~/.cache/meta_tracker_ros/synth).
data: setup
	$(VENV)/bin/meta-tracker-gen --suite synth-dev --jobs 2
	$(VENV)/bin/meta-tracker-gen --suite synth-test --jobs 2
	$(VENV)/bin/meta-tracker-gen --suite synth-long --jobs 2

# Photo suites: tuning (photo-dev) and held out (synth-photo-test), images from disjoint photos.
data-photos: setup-training
	$(VENV)/bin/meta-tracker-gen --suite photo-dev --jobs 2
	$(VENV)/bin/meta-tracker-gen --suite synth-photo-test --jobs 2

# The floors every trained tracker is measured against: no tracking training (siamfc_imagenet)
# and OpenCV's classical trackers.
BASELINES := siamfc_imagenet opencv_csrt opencv_kcf

eval-baselines: data data-photos
	$(VENV)/bin/meta-tracker-eval --trackers $(BASELINES) --dataset synth:synth-test \
		--out results/synth-test --jobs 2
	$(VENV)/bin/meta-tracker-eval --trackers $(BASELINES) --dataset synth:synth-photo-test \
		--out results/synth-photo-test --jobs 2
	$(VENV)/bin/meta-tracker-eval --trackers $(BASELINES) --dataset synth:synth-long \
		--out results/synth-long --jobs 2

bench: setup
	$(PY) benchmarks/bench_node_overhead.py

clean:
	rm -rf build install log out
