# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Pieces the bag tools share: QoS profiles, the rosbags typestore, message classes, argv, signals.

The typestore is rosbags' ROS 2 Kilted store (the distribution of the `ros-*` wheels) plus
vision_msgs registered from the .msg definitions the running ROS installation provides, so a
bag's type hashes (RIHS01) equal the ones rclpy publishes with.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
from pathlib import Path
import signal
import sys

from rclpy.qos import (DurabilityPolicy, HistoryPolicy, qos_profile_sensor_data, QoSProfile,
                       ReliabilityPolicy)
from rosbags.typesys import get_types_from_msg, get_typestore, Stores
from rosbags.typesys.store import Typestore

ROS_STORE = Stores.ROS2_KILTED
QOS_CHOICES = ('reliable', 'sensor_data')
# Our build of vision_msgs, used when no installed package provides the definitions.
_REPO_VISION_MSGS = Path(__file__).resolve().parents[2] / 'interfaces' / 'vision_msgs' / 'msg'


def qos_profile(name: str) -> QoSProfile:
    """Return the QoS named: reliable = keep all, reliable (no frame lost); sensor_data = ROS's."""
    if name == 'reliable':
        return QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE,
                          durability=DurabilityPolicy.VOLATILE)
    if name == 'sensor_data':
        return qos_profile_sensor_data
    raise ValueError(f'unknown QoS {name!r}; choose one of {", ".join(QOS_CHOICES)}')


def vision_msgs_dir() -> Path:
    """
    Return the folder of vision_msgs .msg files: the installed package's, else the repo's.

    An installed interface package keeps its definitions in <prefix>/share/vision_msgs/msg and
    its Python code in <prefix>/lib/pythonX.Y/site-packages/vision_msgs (colcon, the ROS
    distributions and our venv build alike); AMENT_PREFIX_PATH is not needed to find them.
    """
    spec = importlib.util.find_spec('vision_msgs')
    if spec is not None and spec.origin is not None:
        installed = Path(spec.origin).resolve().parents[4] / 'share' / 'vision_msgs' / 'msg'
        if any(installed.glob('*.msg')):
            return installed
    if any(_REPO_VISION_MSGS.glob('*.msg')):
        return _REPO_VISION_MSGS
    raise FileNotFoundError(
        'no vision_msgs .msg definitions: neither an installed vision_msgs package nor '
        f'{_REPO_VISION_MSGS}')


@functools.lru_cache(maxsize=1)
def typestore() -> Typestore:
    """Return the rosbags typestore of ROS 2 Kilted with vision_msgs registered."""
    store = get_typestore(ROS_STORE)
    types = {}
    for path in sorted(vision_msgs_dir().glob('*.msg')):
        types.update(get_types_from_msg(path.read_text(), f'vision_msgs/msg/{path.stem}'))
    store.register(types)
    return store


def message_class(msgtype: str) -> type:
    """Return the rclpy message class of a type name such as `sensor_msgs/msg/Image`."""
    try:
        package, kind, name = msgtype.split('/')
        return getattr(importlib.import_module(f'{package}.{kind}'), name)
    except (ValueError, ImportError, AttributeError) as exc:
        raise ValueError(f'message type {msgtype!r} is not available to rclpy: {exc}') from exc


def parse_args(parser: argparse.ArgumentParser,
               args: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """
    Split argv at --ros-args: parse ours, return them with the argv for rclpy.init.

    Only what follows --ros-args (up to a lone --) goes to rclpy, so our own `OLD:=NEW`
    options are not taken for ROS 1 style remaps (rclpy.utilities.remove_ros_args would).
    """
    argv = list(sys.argv if args is None else ['prog', *args])
    ours, ros, in_ros = [], [], False
    for arg in argv[1:]:
        if arg == '--ros-args':
            in_ros = True
        elif in_ros and arg == '--':
            in_ros = False
            continue
        (ros if in_ros else ours).append(arg)
    return parser.parse_args(ours), [argv[0], *ros]


class StopSignals:
    """
    SIGINT and SIGTERM set a flag that the tool's loop polls, so it stops and finishes its files.

    Used with rclpy.init(signal_handler_options=SignalHandlerOptions.NO): rclpy's own handlers
    shut the context down asynchronously, which under traffic interrupted a publish or an
    executor wait with RCLError (exit 1 with a traceback, files not written; seen in 2 of 8
    SIGTERMs to a player at --rate 0). A signal ignored when the process started (a background
    job of a non-interactive shell, nohup) stays ignored, as Python does for SIGINT.
    """

    def __init__(self) -> None:
        self.received: str | None = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(sig) is not signal.SIG_IGN:
                signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.received = signal.Signals(signum).name

    def __bool__(self) -> bool:
        return self.received is not None
