# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# The two commands of the README: `make demo` and `make test`. Both set everything up first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test test-fast lint bench clean

setup:
	@VENV=$(VENV) bash scripts/setup.sh

demo: setup
	$(PY) -m meta_tracker_ros.tools.demo

test: setup
	$(PY) -m pytest -q test

test-fast: setup
	$(PY) -m pytest -q test -m "not slow"

lint: setup
	$(PY) -m pytest -q test/test_flake8.py test/test_pep257.py test/test_copyright.py test/test_xmllint.py

clean:
	rm -rf build install log out
