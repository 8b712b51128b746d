# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Turn a launch file's Node action into the command line `ros2 launch` would run.

launch and launch_ros cannot be installed here, so this reads the launch file's syntax tree
and evaluates the small subset our launch files use: DeclareLaunchArgument defaults,
LaunchConfiguration, FindPackageShare, PathJoinSubstitution, parameters (YAML files and
dicts, which launch_ros writes to a temporary params file) and remappings.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import yaml


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        f = node.func
        return f.id if isinstance(f, ast.Name) else getattr(f, 'attr', '')
    return ''


class LaunchFile:
    """The Node actions and declared arguments of one launch file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text())
        calls = [n for n in ast.walk(self.tree) if isinstance(n, ast.Call)]
        self.arguments: dict[str, ast.AST | None] = {}
        for c in calls:
            if _call_name(c) == 'DeclareLaunchArgument':
                default = next((k.value for k in c.keywords if k.arg == 'default_value'), None)
                self.arguments[ast.literal_eval(c.args[0])] = default
        self.nodes = [c for c in calls if _call_name(c) == 'Node']

    def command(self, share: Path, lib: Path, args: dict[str, str], tmp: Path) -> list[str]:
        """Command line of the first Node, given launch arguments and the install paths."""
        node = self.nodes[0]
        kw = {k.arg: k.value for k in node.keywords}
        env = _Evaluator(self, share, args)
        cmd = [str(lib / ast.literal_eval(kw['executable'])), '--ros-args']
        if 'name' in kw:
            cmd += ['-r', f'__node:={env.evaluate(kw["name"])}']
        for i, item in enumerate(kw['parameters'].elts if 'parameters' in kw else []):
            value = env.evaluate(item)
            if isinstance(value, dict):
                path = tmp / f'launch_params_{i}.yaml'
                path.write_text(yaml.safe_dump({'/**': {'ros__parameters': value}}))
                value = str(path)
            cmd += ['--params-file', str(value)]
        for pair in kw['remappings'].elts if 'remappings' in kw else []:
            src, dst = (env.evaluate(e) for e in pair.elts)
            cmd += ['-r', f'{src}:={dst}']
        return cmd


class _Evaluator:

    def __init__(self, launch: LaunchFile, share: Path, args: dict[str, str]) -> None:
        self.launch, self.share, self.args = launch, share, args

    def evaluate(self, node: ast.AST) -> Any:
        name = _call_name(node)
        if name == 'LaunchConfiguration':
            key = ast.literal_eval(node.args[0])
            if key in self.args:
                return self.args[key]
            default = self.launch.arguments.get(key)
            if default is None:
                raise KeyError(f'launch argument {key!r} has no default and was not given')
            return self.evaluate(default)
        if name == 'FindPackageShare':
            return str(self.share)
        if name == 'PathJoinSubstitution':
            return str(Path(*[str(self.evaluate(e)) for e in node.args[0].elts]))
        if isinstance(node, ast.Dict):
            return {self.evaluate(k): self.evaluate(v) for k, v in zip(node.keys, node.values)}
        if isinstance(node, ast.Name) and node.id == 'share':
            return str(self.share)
        return ast.literal_eval(node)
