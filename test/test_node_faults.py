# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Faults a deployed tracker_node meets, each against the node in its own process.

Over real rclpy + Fast DDS: a camera killed and restarted, a burst of frames, stamps that go
backwards or repeat, the image size or encoding changing, a flood of init boxes, signals
during the tracker's build and during tracking, the weights file deleted or replaced while
running. The node must say what happened and keep (or recover) its state.
"""

import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray
from meta_tracker_ros.core.types import Box
from meta_tracker_ros.core.weights import save_weights
from meta_tracker_ros.ros import conversions as conv
import pytest
from ros_harness import det_box, NodeFactory, NodeProcess, Scene, stamp_of
import torch

HERE = Path(__file__).resolve().parent


pytestmark = pytest.mark.usefixtures('ros_context')


@pytest.fixture
def start(tmp_path):
    nodes = NodeFactory(tmp_path)
    yield nodes.start
    nodes.close()


def _play(client, scene, frames, start=0, pause=0.02):
    for i in range(start, start + frames):
        client.publish_frame(scene.frame(i), i)
        client.spin(pause)


def _det(client, i):
    arr = client.by_stamp().get(stamp_of(i))
    return det_box(arr) if arr is not None else None


def _own_segments(pid: int) -> set[Path]:
    """
    Return the Fast DDS shared-memory segments a process created (not the port files).

    A participant holds a file lock on its segment's `_el` file while it lives
    (/proc/locks gives the lock's pid and inode).
    """
    locks = [f.split() for f in Path('/proc/locks').read_text().splitlines()]
    inodes = {int(f[5].split(':')[2]) for f in locks if len(f) > 5 and f[4] == str(pid)}
    return {Path(str(p)[:-3]) for p in Path('/dev/shm').glob('fastdds_*_el')
            if re.fullmatch(r'fastdds_[0-9a-f]{16}_el', p.name) and p.stat().st_ino in inodes}


PUBLISHER = """
import sys, time
sys.path.insert(0, {here!r})
import rclpy
from ros_harness import Client, Scene
rclpy.init()
c = Client('camera', {ns!r})
c.wait_until(lambda: c.image_pub.get_subscription_count() > 0, 30)
scene = Scene(speed=2.0)
for i in range({first}, {last}):
    c.publish_frame(scene.frame(i), i)
    c.spin(0.05)
print('published', flush=True)
while True:
    c.spin(1.0)
"""


def test_camera_killed_and_restarted_tracking_resumes(start, tmp_path):
    node, client, ns = start('-p', 'init_wait:=30.0', wait=False)
    assert client.wait_until(lambda: client.init_pub.get_subscription_count() > 0, 60)
    scene = Scene(speed=2.0)
    # The box for frame 0 first: the node waits for that frame (init_wait).
    client.publish_init(scene.box(0), 0)
    client.spin(0.5)

    def camera(first, last):
        return subprocess.Popen([sys.executable, '-c', PUBLISHER.format(
            here=str(HERE), ns=ns, first=first, last=last)], stdout=subprocess.PIPE, text=True)

    cam = camera(0, 10)
    try:
        assert cam.stdout.readline().strip() == 'published'
        assert client.wait_until(lambda: _det(client, 9) is not None, 30), node.text()
        track = client.by_stamp()[stamp_of(9)].detections[0].id
        cam.send_signal(signal.SIGKILL)
        cam.wait()
        cam = camera(10, 20)
        assert cam.stdout.readline().strip() == 'published'
        assert client.wait_until(lambda: _det(client, 19) is not None, 30), node.text()
    finally:                     # a failed assertion must not leave a camera running
        cam.send_signal(signal.SIGKILL)
        cam.wait()
    assert client.by_stamp()[stamp_of(19)].detections[0].id == track
    assert _det(client, 19).iou(scene.box(19)) > 0.6
    assert node.alive()


def test_burst_drops_frames_without_queueing(start):
    node, client, ns = start(qos='sensor_data')
    diags = []
    client.node.create_subscription(DiagnosticArray, '/diagnostics', diags.append, 10)
    scene = Scene(speed=0.1)
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 10, pause=0.1)
    burst = []
    for i in range(10, 310):
        msg = conv.rgb_to_image(scene.frame(i), 'rgb8')
        msg.header.stamp.sec, msg.header.stamp.nanosec = stamp_of(i)
        burst.append(msg)
    t0 = time.monotonic()
    for k, msg in enumerate(burst):      # 300 Hz: ten times a 30 Hz camera
        client.publish_raw(msg)
        time.sleep(max(0.0, t0 + (k + 1) / 300.0 - time.monotonic()))
    burst_s = time.monotonic() - t0
    _play(client, scene, 4, start=310, pause=0.1)
    sent = time.monotonic()
    client.publish_frame(scene.frame(314), 314)
    assert client.wait_until(lambda: _det(client, 314) is not None, 10), node.text()
    # Not queued: the frame after the burst comes back at once.
    assert time.monotonic() - sent < 2.0
    assert _det(client, 314).iou(scene.box(314)) > 0.5

    def stats():
        for arr in diags:
            for s in arr.status:
                if s.name == f'{ns}/tracker_node: tracking':
                    yield {kv.key: kv.value for kv in s.values}
    client.spin(2.5)
    last = list(stats())[-1]
    received, processed, dropped = (int(last[k]) for k in (
        'frames_received', 'frames_processed', 'frames_dropped'))
    assert dropped > 0 and processed + dropped <= received <= 315, (burst_s, last)
    assert node.alive()


def test_stamps_backwards_and_duplicates(start):
    node, client, _ = start()
    scene = Scene(speed=2.0)
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 10)
    assert client.wait_until(lambda: len(client.detections) >= 10), node.text()
    # A looping bag: the content goes on, the stamps start again.
    for i in range(10, 15):
        client.publish_frame(scene.frame(i), i - 10)
        client.spin(0.02)
    assert node.wait_for_log('image stamps went backwards'), node.text()
    client.publish_frame(scene.frame(15), 5)
    client.publish_frame(scene.frame(15), 5)
    assert node.wait_for_log('duplicate image stamp'), node.text()
    assert client.wait_until(lambda: len(client.detections) >= 17), node.text()
    last = det_box(client.detections[-1])
    assert last is not None and last.iou(scene.box(15)) > 0.6
    # An init on the new timeline: stamp 2 is now frame 12.
    client.publish_init(scene.box(12), 2)
    assert node.wait_for_log('on the frame stamped 1000.003'), node.text()
    assert node.alive()


def test_size_and_encoding_change_mid_stream(start):
    node, client, _ = start()
    small, large = Scene(speed=2.0), Scene(width=640, height=480, speed=2.0, seed=1)
    client.publish_init(small.box(0), 0)
    _play(client, small, 6)
    client.publish_frame(small.frame(6), 6, 'mono8')
    assert node.wait_for_log('image encoding changed from rgb8 to mono8'), node.text()
    _play(client, large, 4, start=7)
    assert node.wait_for_log('image size changed from 320x240 to 640x480 while tracking'), \
        node.text()
    assert client.wait_until(lambda: stamp_of(10) in client.by_stamp()), node.text()
    assert not client.by_stamp()[stamp_of(10)].detections
    client.publish_init(large.box(10), 10)
    _play(client, large, 5, start=11)
    assert client.wait_until(lambda: _det(client, 15) is not None, 10), node.text()
    assert _det(client, 15).iou(large.box(15)) > 0.6


def test_init_flood(start):
    node, client, _ = start()
    scene = Scene(speed=2.0)
    _play(client, scene, 5)
    for k in range(200):
        client.publish_init(Box(10 + k % 50, 10, 30, 30), 4)
    client.publish_init(scene.box(4), 4)
    client.spin(1.0)
    _play(client, scene, 10, start=5)
    assert client.wait_until(lambda: _det(client, 14) is not None, 20), node.text()
    assert _det(client, 14).iou(scene.box(14)) > 0.6
    assert node.alive()


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM])
def test_signal_during_build_and_tracking_exits_clean(start, tmp_path, sig):
    # During the build: mlt's int8 calibration takes seconds after the node has started.
    node = NodeProcess.tracker_node(tmp_path / 'build.log', '-r', f'__ns:=/sig{int(sig)}',
                                    '-p', 'tracker:=mlt')
    assert node.wait_for_log('starting (autostart)', 30), node.text()
    assert node.stop(sig) == 0, node.text()
    # During tracking.
    node2, client, _ = start()
    scene = Scene()
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 5)
    assert client.wait_until(lambda: len(client.detections) >= 5), node2.text()
    segments = _own_segments(node2.proc.pid)
    assert segments, 'the node maps no Fast DDS segment: shared memory is not in use'
    assert node2.stop(sig) == 0, node2.text()
    # Fast DDS removes a participant's segment when it is closed cleanly (a killed one stays).
    left = [p.name for p in segments if p.exists() or Path(f'{p}_el').exists()]
    assert not left, f'Fast DDS segments left in /dev/shm: {left}'


def test_weights_deleted_or_replaced_while_running(start, tmp_path):
    from meta_tracker_ros.core.models.maml_detector import (DetectorArgs, InnerArgs,
                                                            MAMLDetectorNet)
    torch.manual_seed(0)
    net = MAMLDetectorNet(DetectorArgs(head='retina', channels=8, input_size=135),
                          InnerArgs(lr=1e-2))
    weights = save_weights(tmp_path / 'w.safetensors', net.state_dict(), tracker='retina_maml',
                           model_args=net.model_args())
    node, client, _ = start('-p', f'weights:={weights}', '-p', 'retina_maml.lost_threshold:=0.0',
                            '-p', 'retina_maml.min_score:=0.0', tracker='retina_maml')
    scene = Scene()
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 5)
    assert client.wait_until(lambda: _det(client, 4) is not None, 20), node.text()
    track = client.by_stamp()[stamp_of(4)].detections[0].id

    os.remove(weights)
    ok, reason = client.set_param('retina_maml.window_influence', 0.3)
    assert not ok and 'not found' in reason, reason
    Path(weights).write_bytes(b'\x10\x00\x00\x00\x00\x00\x00\x00{"not": "safetensors"')
    ok, reason = client.set_param('weights', str(weights))
    assert not ok and 'corrupt' in reason, reason
    assert node.wait_for_log('parameter change rejected'), node.text()
    _play(client, scene, 3, start=5)
    assert client.wait_until(lambda: _det(client, 7) is not None, 20), node.text()
    assert client.by_stamp()[stamp_of(7)].detections[0].id == track, 'the old tracker must go on'
