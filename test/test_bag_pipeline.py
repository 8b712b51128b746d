# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A rosbag2 file -> bag_player -> tracker_node -> result_recorder, each in its own process.

The bag is written by seq_to_bag's code from a generated sequence with its camera_info. Checks:
every recorded output stamp is an input stamp and every input frame has an output, the
tracker follows the target, and the side outputs (bearing with camera_info, debug image,
diagnostics) arrive with the image's header.
"""

import subprocess
import sys

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Vector3Stamped
from meta_tracker_ros.core.types import Box
from meta_tracker_ros.data.generator import generate_sequence
from meta_tracker_ros.data.spec import SequenceSpec
from meta_tracker_ros.ros import conversions as conv
from meta_tracker_ros.tools.bag_writer import BagOptions, write_bag
import numpy as np
import rclpy
from rclpy.node import Node
from ros_harness import NodeProcess
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2D

FRAMES = 45


def _sequence():
    spec = SequenceSpec.from_difficulty(0.0, width=320, height=240)
    seq = generate_sequence(5_900_101, FRAMES, spec)
    frames, boxes = [], []
    for f in seq:
        frames.append(f.image)
        boxes.append(f.box)
    return frames, np.array(boxes, dtype=float)


def test_bag_to_node_to_recorder(tmp_path):
    frames, gt = _sequence()
    bag = tmp_path / 'bag'
    options = BagOptions(fps=30.0, topic='/pipe/camera/image_raw')
    assert write_bag(iter(frames), bag, options, gt=gt, total=FRAMES, progress=False) == FRAMES
    stamps = [round(options.start_time * 1e9) + round(i * 1e9 / options.fps)
              for i in range(FRAMES)]

    node = NodeProcess.tracker_node(
        tmp_path / 'node.log', '-r', '__ns:=/pipe', '-p', 'tracker:=opencv_csrt', '-p',
        'image_qos:=reliable', '-p', 'process_every_frame:=true', '-p',
        'publish_debug_image:=true', '-p', 'init_wait:=30.0', '-r',
        'image:=/pipe/camera/image_raw', '-r', 'camera_info:=/pipe/camera/camera_info')
    result = tmp_path / 'result.txt'
    recorder = NodeProcess([sys.executable, '-m', 'meta_tracker_ros.tools.recorder', str(result),
                            '--detections-topic', '/pipe/detections', '--image-topic',
                            '/pipe/camera/image_raw', '--expected-frames', str(FRAMES),
                            '--timeout', '90'], tmp_path / 'recorder.log')
    rclpy.init()
    client = Node('pipe_client')
    got = {'bearing': [], 'debug': [], 'diag': []}
    client.create_subscription(Vector3Stamped, '/pipe/target/bearing', got['bearing'].append, 100)
    client.create_subscription(Image, '/pipe/debug_image', got['debug'].append, 100)
    client.create_subscription(DiagnosticArray, '/diagnostics', got['diag'].append, 100)
    init_pub = client.create_publisher(Detection2D, '/pipe/target/init', 10)
    try:
        for _ in range(600):
            if init_pub.get_subscription_count():
                break
            rclpy.spin_once(client, timeout_sec=0.05)
        box = Box(*gt[0])
        init = Detection2D()
        init.header.stamp.sec, init.header.stamp.nanosec = divmod(stamps[0], 1_000_000_000)
        init.bbox.center.position.x, init.bbox.center.position.y = box.cx, box.cy
        init.bbox.size_x, init.bbox.size_y = box.w, box.h
        init_pub.publish(init)
        rclpy.spin_once(client, timeout_sec=0.1)
        player = subprocess.Popen([sys.executable, '-m', 'meta_tracker_ros.tools.bag_player',
                                   str(bag), '--wait-subscribers', '2', '--topics',
                                   '/pipe/camera/image_raw', '/pipe/camera/camera_info'])
        while recorder.alive():
            rclpy.spin_once(client, timeout_sec=0.05)
        rclpy.spin_once(client, timeout_sec=0.5)
        assert player.wait(timeout=60) == 0
        assert recorder.proc.returncode == 0, recorder.text()
    finally:
        client.destroy_node()
        rclpy.try_shutdown()
        assert node.stop() == 0, node.text()

    csv = np.genfromtxt(result.with_suffix('.csv'), delimiter=',', names=True, dtype=None,
                        encoding=None)
    assert sorted(int(s) for s in csv['stamp_ns']) == stamps, 'outputs must match input stamps'
    assert (csv['status'] != 'no_result').all(), 'every frame must have an output'
    boxes = np.loadtxt(result, delimiter=',', ndmin=2)
    assert boxes.shape == (FRAMES, 4)
    ious = [Box(*b).iou(Box(*g)) for b, g in zip(boxes[:15], gt[:15]) if np.isfinite(b).all()]
    assert len(ious) == 15 and np.mean(ious) > 0.5, ious

    assert got['bearing'], 'no bearing although camera_info was played'
    ray = got['bearing'][-1].vector
    assert abs(np.linalg.norm([ray.x, ray.y, ray.z]) - 1) < 1e-6 and ray.z > 0
    assert {conv.stamp_to_ns(m.header.stamp) for m in got['bearing']} <= set(stamps)
    debug = got['debug'][-1]
    assert debug.encoding == 'bgr8' and (debug.width, debug.height) == (320, 240)
    states = {kv.value for arr in got['diag'] for s in arr.status if 'tracker_node' in s.name
              for kv in s.values if kv.key == 'state'}
    assert states & {'tracking', 'lost'}, states
