# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
bag_player and result_recorder in their own processes, over real rclpy + Fast DDS.

The test process is an ordinary rclpy node in a context of its own (conftest.py gives the
pytest process its own ROS_DOMAIN_ID, localhost discovery and a temporary ROS_LOG_DIR).
"""

import csv
import signal
import sys
import time

from builtin_interfaces.msg import Time
from meta_tracker_ros.core.types import Box, TrackResult
from meta_tracker_ros.ros import conversions as conv
from meta_tracker_ros.tools.bag_writer import BagOptions, write_bag
from meta_tracker_ros.tools.common import qos_profile, typestore
import numpy as np
import pytest
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from ros_harness import NodeProcess
from rosbags.rosbag2 import Reader
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2DArray

FPS = 20.0
N = 12
RELIABLE = qos_profile('reliable')


def frames():
    rng = np.random.default_rng(3)
    return [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(N)]


@pytest.fixture(scope='module')
def bag(tmp_path_factory):
    path = tmp_path_factory.mktemp('player') / 'bag'
    gt = np.array([[5.0 + i, 6.0, 20.0, 10.0] for i in range(N)])
    options = BagOptions(fps=FPS, start_time=500.0)
    assert write_bag(iter(frames()), path, options, gt=gt, progress=False) == N
    return path


def expected_stamps():
    return [500_000_000_000 + round(i * 1e9 / FPS) for i in range(N)]


@pytest.fixture
def ros():
    """(node, executor) in a context of this test's own; shut down afterwards."""
    context = Context()
    rclpy.init(context=context)
    node = rclpy.create_node('tools_test', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    yield node, executor
    executor.shutdown()
    node.destroy_node()
    rclpy.try_shutdown(context=context)


def spin_until(executor, cond, timeout):
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        executor.spin_once(timeout_sec=0.02)
    return cond()


def python_module(module, *args):
    return [sys.executable, '-m', module, *[str(a) for a in args]]


def receiver(node, msg_type, topic, qos=RELIABLE):
    """Subscribe; return the list of (monotonic receive time, message) it fills."""
    got = []
    node.create_subscription(msg_type, topic, lambda m: got.append((time.monotonic(), m)), qos)
    return got


def test_player_delivers_every_frame_with_its_stamp(bag, ros, tmp_path):
    node, executor = ros
    images = receiver(node, Image, '/t/image')
    infos = receiver(node, CameraInfo, '/camera/camera_info')
    groundtruth = receiver(node, Detection2DArray, '/groundtruth')
    player = NodeProcess(python_module(
        'meta_tracker_ros.tools.bag_player', bag, '--rate', 0, '--wait-subscribers', 1,
        '--start-delay', 0.3, '--topics', '/camera/image_raw', '/camera/camera_info',
        '--remap', '/camera/image_raw:=/t/image'), tmp_path / 'player.log')
    try:
        assert spin_until(executor, lambda: not player.alive() and len(images) == N
                          and len(infos) == N, 30), player.text()
    finally:
        assert player.stop() == 0, player.text()
    stamps = [conv.stamp_to_ns(m.header.stamp) for _, m in images]
    assert stamps == expected_stamps(), 'every frame, in order, with its recorded stamp'
    for (_, msg), rgb in zip(images, frames()):
        np.testing.assert_array_equal(conv.image_to_rgb(msg), rgb)
    assert [conv.stamp_to_ns(m.header.stamp) for _, m in infos] == expected_stamps()
    assert not groundtruth, '--topics leaves /groundtruth out'
    assert f'played {2 * N} messages' in player.log.read_text()


def test_player_rate_and_clock(bag, ros, tmp_path):
    node, executor = ros
    images = receiver(node, Image, '/camera/image_raw')
    clock = receiver(node, Clock, '/clock')
    rate = 0.5
    player = NodeProcess(python_module(
        'meta_tracker_ros.tools.bag_player', bag, '--rate', rate, '--wait-subscribers', 1,
        '--start-delay', 0.3, '--topics', '/camera/image_raw', '--clock', 50),
        tmp_path / 'player.log')
    try:
        assert spin_until(executor, lambda: not player.alive() and len(images) == N, 30), \
            player.text()
    finally:
        assert player.stop() == 0, player.text()
    # The bag spans (N - 1) / FPS plus at most 1 ms of receive-time jitter.
    expected = (N - 1) / FPS / rate
    span = images[-1][0] - images[0][0]
    gaps = np.diff([t for t, _ in images])
    print(f'rate {rate}: span {span:.3f} s (expected {expected:.3f}), gaps median '
          f'{1e3 * np.median(gaps):.1f} ms (expected {1e3 / FPS / rate:.1f})')
    assert 0.8 * expected < span < 2.0 * expected
    assert np.median(gaps) > 0.5 / FPS / rate, 'frames are paced, not bursted'
    bag_times = [conv.stamp_to_ns(m.clock) for _, m in clock]
    assert len(bag_times) >= N and bag_times == sorted(bag_times)
    assert expected_stamps()[0] <= bag_times[0] and bag_times[-1] <= expected_stamps()[-1] + 5e6


def _header(i):
    return Header(stamp=Time(sec=50, nanosec=1000 * i), frame_id='camera')


def test_recorder_result_file_by_stamp(ros, tmp_path):
    node, executor = ros
    result, rec_bag = tmp_path / 'out' / 'result.txt', tmp_path / 'rec_bag'
    recorder = NodeProcess(python_module(
        'meta_tracker_ros.tools.recorder', result, '--detections-topic', '/r/detections',
        '--image-topic', '/r/image', '--expected-frames', 4, '--timeout', 30, '--bag', rec_bag),
        tmp_path / 'recorder.log')
    image_pub = node.create_publisher(Image, '/r/image', RELIABLE)
    det_pub = node.create_publisher(Detection2DArray, '/r/detections', RELIABLE)
    try:
        assert spin_until(executor, lambda: image_pub.get_subscription_count() > 0
                          and det_pub.get_subscription_count() > 0, 30), recorder.text()
        for i in range(5):
            image_pub.publish(conv.rgb_to_image(frames()[i], 'rgb8', _header(i)))
        assert image_pub.wait_for_all_acked(rclpy.duration.Duration(seconds=10))
        time.sleep(0.02)
        # Out of order on purpose; frame 1 is lost (empty array), frame 4 gets no result.
        for i in (3, 0, 1, 2):
            dets = [] if i == 1 else [conv.result_to_detection(
                TrackResult(Box(10 + i, 20, 30, 40), 0.75), _header(i), 'track-7', 'target')]
            det_pub.publish(conv.detection_array(_header(i), dets))
        assert spin_until(executor, lambda: not recorder.alive(), 40), recorder.text()
    finally:
        assert recorder.stop() == 0, recorder.text()

    lines = result.read_text().splitlines()
    assert lines == ['10.000,20.000,30.000,40.000', 'nan,nan,nan,nan',
                     '12.000,20.000,30.000,40.000', '13.000,20.000,30.000,40.000',
                     'nan,nan,nan,nan']
    with open(result.with_suffix('.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [r['status'] for r in rows] == ['tracked', 'lost', 'tracked', 'tracked', 'no_result']
    assert [int(r['stamp_ns']) for r in rows] == [50_000_000_000 + 1000 * i for i in range(5)]
    # Detections were sent after every image was acknowledged, but the recorder's executor
    # takes ready messages in its own order (images can be taken after the detections), so
    # the check is the arithmetic: latency = detections receipt - image receipt.
    for r in rows[:4]:
        expected = (int(r['detections_receive_ns']) - int(r['image_receive_ns'])) / 1e6
        assert float(r['latency_ms']) == pytest.approx(expected, abs=1e-3), r
    assert rows[4]['latency_ms'] == '' and rows[4]['image_receive_ns'] != ''
    first = rows[0]
    assert (first['score'], first['track_id'], first['class_id']) == ('0.75', 'track-7', 'target')
    assert rows[1]['n_detections'] == '0'

    store = typestore()
    with Reader(rec_bag) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        dets = [store.deserialize_cdr(raw, c.msgtype)
                for c, _, raw in reader.messages() if c.topic == '/r/detections']
    assert counts == {'/r/detections': 4, '/r/image': 5}
    assert [len(d.detections) for d in dets] == [1, 1, 0, 1]


def test_timeout_and_signals(bag, ros, tmp_path):
    """Recorder timeout exits 1; SIGINT to the recorder and SIGTERM to the player exit 0."""
    node, executor = ros
    timed = NodeProcess(python_module(
        'meta_tracker_ros.tools.recorder', tmp_path / 'timed.txt', '--detections-topic',
        '/none', '--expected-frames', 3, '--timeout', 1), tmp_path / 'timed.log')
    stopped = NodeProcess(python_module(
        'meta_tracker_ros.tools.recorder', tmp_path / 'stopped.txt', '--detections-topic',
        '/none', '--ros-args', '-r', '__node:=stopped_recorder'), tmp_path / 'stopped.log')
    looping = NodeProcess(python_module(
        'meta_tracker_ros.tools.bag_player', bag, '--loop', '--rate', 4, '--topics',
        '/camera/image_raw', '--remap', '/camera/image_raw:=/unheard', '--ros-args', '-r',
        '__node:=looping_player'), tmp_path / 'looping.log')
    try:
        # Signal only once both are up (their nodes are in the graph), as a user would.
        assert spin_until(executor, lambda: {'stopped_recorder', 'looping_player'}
                          <= set(node.get_node_names()), 30), stopped.text() + looping.text()
        looping.proc.send_signal(signal.SIGTERM)
        assert looping.proc.wait(timeout=15) == 0, looping.text()
        assert stopped.stop(signal.SIGINT) == 0, stopped.text()
        assert timed.proc.wait(timeout=30) == 1, timed.text()
    finally:
        for proc in (timed, stopped, looping):
            proc.stop()
    assert 'timed out with 0 results of 3 expected' in timed.log.read_text()
    assert 'Traceback' not in looping.log.read_text() + stopped.log.read_text()
    assert (tmp_path / 'stopped.txt').read_text() == ''
    assert (tmp_path / 'stopped.csv').read_text().startswith('frame,stamp_ns,')
    assert 'stopped by SIGINT: 0 frames' in stopped.log.read_text()
