# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Run tracker_node in its own process and talk to it over real rclpy + Fast DDS.

The test side is an ordinary rclpy node: it publishes images and init boxes, collects
detections by stamp, calls the reset service and sets parameters, exactly as a user would.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import cv2
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from meta_tracker_ros.core.types import Box
from meta_tracker_ros.ros import conversions as conv
import numpy as np
from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.srv import SetParametersAtomically
import rclpy
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_srvs.srv import Trigger
from vision_msgs.msg import Detection2D, Detection2DArray

RELIABLE = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE,
                      history=HistoryPolicy.KEEP_ALL)


def _default_sigint() -> None:
    """
    Give the child the default SIGINT handling, as a terminal's foreground process has.

    A test run started as a background job of a non-interactive shell (nohup make test &)
    inherits SIGINT ignored, and a process that starts with SIGINT ignored rightly keeps
    ignoring it; the tests that send SIGINT must not depend on how pytest was started.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class NodeProcess:
    """tracker_node (or any command line) in a subprocess, its output in a log file."""

    def __init__(self, cmd: list[str], log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.log = log
        self._fh = open(log, 'w')
        self.proc = subprocess.Popen(cmd, stdout=self._fh, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})}, cwd=cwd,
                                     preexec_fn=_default_sigint)

    @classmethod
    def tracker_node(cls, log: Path, *ros_args: str) -> NodeProcess:
        return cls([sys.executable, '-m', 'meta_tracker_ros.ros.tracker_node', '--ros-args',
                    *ros_args], log)

    def text(self) -> str:
        if not self._fh.closed:
            self._fh.flush()
        return self.log.read_text()

    def wait_for_log(self, pattern: str, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pattern in self.text():
                return True
            time.sleep(0.05)
        return False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop as a launch system would (SIGTERM; SIGINT = Ctrl-C); 0 = clean shutdown."""
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._fh.close()
        return self.proc.returncode


class Scene:
    """A textured square moving right by `speed` px per frame over a noise background."""

    def __init__(self, width: int = 320, height: int = 240, speed: float = 4.0,
                 size: int = 40, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        small = rng.integers(0, 120, (height // 4, width // 4, 3), dtype=np.uint8)
        self.bg = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)
        self.patch = cv2.resize(rng.integers(100, 255, (4, 4, 3), dtype=np.uint8),
                                (size, size), interpolation=cv2.INTER_NEAREST)
        self.speed, self.size = speed, size

    def box(self, i: int) -> Box:
        return Box(20 + self.speed * i, 90, self.size, self.size)

    def frame(self, i: int) -> np.ndarray:
        img = self.bg.copy()
        b = self.box(i)
        x, y = int(round(b.x)), int(round(b.y))
        img[y:y + self.size, x:x + self.size] = self.patch
        return img


def stamp_of(i: int) -> tuple[int, int]:
    return 1000, 1_000_000 * (i + 1)


class Client:
    """The test's side of the graph."""

    def __init__(self, name: str = 'test_client', ns: str = '',
                 image_topic: str | None = None) -> None:
        self.node = Node(name)
        self.ns = ns
        self.image_pub = self.node.create_publisher(Image, image_topic or f'{ns}/image',
                                                    RELIABLE)
        self.init_pub = self.node.create_publisher(Detection2D, f'{ns}/target/init', 10)
        self.detections: list[Detection2DArray] = []
        self.node.create_subscription(Detection2DArray, f'{ns}/detections',
                                      self.detections.append, RELIABLE)
        self.reset_cli = self.node.create_client(Trigger, f'{ns}/tracker_node/reset')
        self.atomic_cli = self.node.create_client(
            SetParametersAtomically, f'{ns}/tracker_node/set_parameters_atomically')
        self.change_cli = self.node.create_client(ChangeState, f'{ns}/tracker_node/change_state')
        self.state_cli = self.node.create_client(GetState, f'{ns}/tracker_node/get_state')

    def spin(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy.spin_once(self.node, timeout_sec=0.01)

    def wait_until(self, cond, timeout: float = 20.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return True
            rclpy.spin_once(self.node, timeout_sec=0.02)
        return cond()

    def wait_connected(self, timeout: float = 60.0) -> None:
        ok = self.wait_until(lambda: self.image_pub.get_subscription_count() > 0
                             and self.init_pub.get_subscription_count() > 0
                             and self.node.count_publishers(
                                 self.detections_topic()) > 0, timeout)
        assert ok, 'tracker_node did not connect'

    def detections_topic(self) -> str:
        return f'{self.ns}/detections'

    def publish_frame(self, rgb: np.ndarray, i: int, encoding: str = 'rgb8') -> Image:
        msg = conv.rgb_to_image(rgb, encoding)
        msg.header.stamp.sec, msg.header.stamp.nanosec = stamp_of(i)
        msg.header.frame_id = 'camera'
        self.image_pub.publish(msg)
        return msg

    def publish_raw(self, msg: Image) -> None:
        self.image_pub.publish(msg)

    def publish_init(self, box: Box, i: int | None) -> None:
        det = Detection2D()
        if i is not None:
            det.header.stamp.sec, det.header.stamp.nanosec = stamp_of(i)
        det.bbox.center.position.x = float(box.cx)
        det.bbox.center.position.y = float(box.cy)
        det.bbox.size_x, det.bbox.size_y = float(box.w), float(box.h)
        self.init_pub.publish(det)

    def by_stamp(self) -> dict[tuple[int, int], Detection2DArray]:
        return {(m.header.stamp.sec, m.header.stamp.nanosec): m for m in self.detections}

    def reset(self) -> Trigger.Response:
        assert self.reset_cli.wait_for_service(timeout_sec=10)
        fut = self.reset_cli.call_async(Trigger.Request())
        assert self.wait_until(fut.done, 10)
        return fut.result()

    def set_param(self, name: str, value) -> tuple[bool, str]:
        return self.set_params({name: value})

    def set_params(self, values: dict) -> tuple[bool, str]:
        """Set parameters together (set_parameters_atomically); (successful, reason)."""
        assert self.atomic_cli.wait_for_service(timeout_sec=10)
        req = SetParametersAtomically.Request()
        for name, value in values.items():
            msg = ParameterMsg()
            msg.name = name
            msg.value = Parameter(name, value=value).get_parameter_value()
            req.parameters.append(msg)
        fut = self.atomic_cli.call_async(req)
        assert self.wait_until(fut.done, 30)
        res = fut.result().result
        return res.successful, res.reason

    def lifecycle_state(self) -> str:
        """Return the node's lifecycle state label (get_state service)."""
        assert self.state_cli.wait_for_service(timeout_sec=20)
        fut = self.state_cli.call_async(GetState.Request())
        assert self.wait_until(fut.done, 10)
        return fut.result().current_state.label

    def change_state(self, transition: str) -> bool:
        """Request a transition by name (configure, activate, ...); True on success."""
        assert self.change_cli.wait_for_service(timeout_sec=20)
        req = ChangeState.Request()
        req.transition.id = getattr(Transition, f'TRANSITION_{transition.upper()}')
        fut = self.change_cli.call_async(req)
        assert self.wait_until(fut.done, 60)
        return fut.result().success

    def destroy(self) -> None:
        self.node.destroy_node()


class NodeFactory:
    """
    Start tracker_node processes, each in a namespace of its own with a client; stop them all.

    close() stops every node as a launch system or a terminal would (SIGTERM, or SIGINT and
    SIGTERM in turn with alternate_signals) and checks each exits cleanly (status 0).
    """

    _ids = itertools.count()

    def __init__(self, logs: Path, alternate_signals: bool = False) -> None:
        self.logs, self.alternate = logs, alternate_signals
        self.made: list[tuple[NodeProcess, Client, int]] = []

    def start(self, *ros_args: str, tracker: str = 'opencv_csrt', qos: str = 'reliable',
              wait: bool = True) -> tuple[NodeProcess, Client, str]:
        """Start one (reliable QoS tracks every frame); wait: until it is connected."""
        index = next(self._ids)
        ns = f'/n{index}'
        args = ['-r', f'__ns:={ns}', '-p', f'tracker:={tracker}', '-p', f'image_qos:={qos}']
        if qos == 'reliable':
            args += ['-p', 'process_every_frame:=true']
        node = NodeProcess.tracker_node(self.logs / f'node{len(self.made)}.log', *args,
                                        *ros_args)
        client = Client(f'client{index}', ns)
        self.made.append((node, client, index))
        if wait:
            client.wait_connected()
        return node, client, ns

    def close(self) -> None:
        for node, client, index in self.made:
            client.destroy()
            sig = signal.SIGINT if self.alternate and index % 2 else signal.SIGTERM
            assert node.stop(sig) == 0, node.text()


def det_box(arr: Detection2DArray) -> Box | None:
    return conv.detection_to_box(arr.detections[0]) if arr.detections else None
