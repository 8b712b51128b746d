# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Launch files and parameter files against what the package installs.

launch and launch_ros cannot be installed here, so the launch files are read as Python syntax
trees: every Node they start must be an installed console script of this package, every
config file they name must exist and be installed, and the documented arguments must be
declared. Every params YAML must validate against the node's and its tracker's typed configs.
"""

import ast
from pathlib import Path
import re

from meta_tracker_ros.core.registry import get_entry
from meta_tracker_ros.ros.params import NodeParams
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.py'))


def _console_scripts():
    text = (ROOT / 'setup.py').read_text()
    return set(re.findall(r"'([\w-]+) = meta_tracker_ros\.[\w.]+:main'", text))


def _calls(tree, name):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == name) or (
                    isinstance(f, ast.Attribute) and f.attr == name):
                yield node


def _kw(call, key):
    for k in call.keywords:
        if k.arg == key:
            return k.value
    return None


def test_there_are_launch_files():
    names = {p.name for p in LAUNCH_FILES}
    assert {'tracker.launch.py', 'bag_tracking.launch.py'} <= names


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_matches_package(path):
    tree = ast.parse(path.read_text())
    assert any(isinstance(n, ast.FunctionDef) and n.name == 'generate_launch_description'
               for n in tree.body)
    scripts = _console_scripts()
    nodes = list(_calls(tree, 'Node'))
    assert nodes, 'no Node action'
    for node in nodes:
        assert ast.literal_eval(_kw(node, 'package')) == 'meta_tracker_ros'
        assert ast.literal_eval(_kw(node, 'executable')) in scripts
    declared = {ast.literal_eval(c.args[0]) for c in _calls(tree, 'DeclareLaunchArgument')}
    used = {ast.literal_eval(c.args[0]) for c in _calls(tree, 'LaunchConfiguration')}
    assert used <= declared, f'undeclared launch arguments {used - declared}'
    assert {'tracker', 'weights', 'params_file', 'image', 'device'} <= declared
    for c in _calls(tree, 'PathJoinSubstitution'):
        parts = [ast.literal_eval(e) for e in c.args[0].elts[1:]]
        assert (ROOT / Path(*parts)).is_file(), f'{path.name} names missing file {parts}'
    setup = (ROOT / 'setup.py').read_text()
    assert "glob('launch/*.launch.py')" in setup and "glob('config/*.yaml')" in setup


def test_launch_check_can_fail(tmp_path):
    bad = tmp_path / 'bad.launch.py'
    bad.write_text("Node(package='meta_tracker_ros', executable='no_such_node')\n")
    node = next(_calls(ast.parse(bad.read_text()), 'Node'))
    assert ast.literal_eval(_kw(node, 'executable')) not in _console_scripts()


@pytest.mark.parametrize('path', sorted((ROOT / 'config').glob('*.yaml')), ids=lambda p: p.name)
def test_params_file_validates(path):
    doc = yaml.safe_load(path.read_text())
    assert list(doc) == ['/**'], 'top key must be /** so remapped names still match'
    params = dict(doc['/**']['ros__parameters'])
    node_keys = {f.name for f in NodeParams.fields()}
    tracker = params.get('tracker', NodeParams().tracker)
    own = params.pop(tracker, {})
    unknown = set(params) - node_keys
    assert not unknown, f'unknown node parameters {unknown}'
    node = NodeParams.from_dict(params)
    get_entry(node.tracker).config_cls.from_dict(own)
