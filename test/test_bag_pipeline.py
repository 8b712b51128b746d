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
import time

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


def _sequence(frames=FRAMES):
    spec = SequenceSpec.from_difficulty(0.0, width=320, height=240)
    seq = generate_sequence(5_900_101, frames, spec)
    images, boxes, masks = [], [], []
    for f in seq:
        images.append(f.image)
        boxes.append(f.box)
        masks.append(f.mask)
    return images, np.array(boxes, dtype=float), masks


def _pipeline(tmp_path, frames, gt, node_args, recorder_args=(), subscribe=()):
    """
    Play frames as a bag through bag_player -> tracker_node -> recorder (own processes).

    Returns the input stamps, the recorder's result file and what the client received on
    `subscribe` ((msg type, topic) pairs) as lists keyed by topic.
    """
    n = len(frames)
    bag = tmp_path / 'bag'
    options = BagOptions(fps=30.0, topic='/pipe/camera/image_raw')
    assert write_bag(iter(frames), bag, options, gt=gt, total=n, progress=False) == n
    stamps = [round(options.start_time * 1e9) + round(i * 1e9 / options.fps) for i in range(n)]
    node = NodeProcess.tracker_node(
        tmp_path / 'node.log', '-r', '__ns:=/pipe', '-p', 'image_qos:=reliable', '-p',
        'process_every_frame:=true', '-p', 'init_wait:=30.0', '-r',
        'image:=/pipe/camera/image_raw', '-r', 'camera_info:=/pipe/camera/camera_info',
        *node_args)
    result = tmp_path / 'result.txt'
    recorder = NodeProcess([sys.executable, '-m', 'meta_tracker_ros.tools.recorder', str(result),
                            '--detections-topic', '/pipe/detections', '--image-topic',
                            '/pipe/camera/image_raw', '--expected-frames', str(n),
                            '--timeout', '120', *recorder_args], tmp_path / 'recorder.log')
    rclpy.init()
    client = Node('pipe_client')
    got = {topic: [] for _, topic in subscribe}
    for msg_type, topic in subscribe:
        client.create_subscription(msg_type, topic, got[topic].append, 100)
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
        end = time.monotonic() + 1.0               # what was still in flight
        while time.monotonic() < end:
            rclpy.spin_once(client, timeout_sec=0.05)
        assert player.wait(timeout=60) == 0
        assert recorder.proc.returncode == 0, recorder.text()
    finally:
        client.destroy_node()
        rclpy.try_shutdown()
        assert node.stop() == 0, node.text()
    return stamps, result, got


def test_bag_to_node_to_recorder(tmp_path):
    frames, gt, _ = _sequence()
    stamps, result, got = _pipeline(
        tmp_path, frames, gt, ['-p', 'tracker:=opencv_csrt', '-p', 'publish_debug_image:=true'],
        subscribe=[(Vector3Stamped, '/pipe/target/bearing'), (Image, '/pipe/debug_image'),
                   (DiagnosticArray, '/diagnostics')])
    got = {'bearing': got['/pipe/target/bearing'], 'debug': got['/pipe/debug_image'],
           'diag': got['/diagnostics']}
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


def test_bag_to_trackmlp_masks_to_recorder(tmp_path):
    # TrackMLP with its committed weights: every mask message carries its image's stamp and
    # size, the recorder writes each one as a PNG named in its CSV, and the recorded masks
    # score against the generator's true masks exactly what the published ones score.
    import cv2
    from meta_tracker_ros.eval.masks import region_similarity
    n = 20
    frames, gt, truth = _sequence(n)
    mask_dir = tmp_path / 'masks'
    stamps, result, got = _pipeline(
        tmp_path, frames, gt, ['-p', 'tracker:=trackmlp'],
        ['--mask-topic', '/pipe/mask', '--mask-dir', str(mask_dir)],
        subscribe=[(Image, '/pipe/mask')])
    masks = {conv.stamp_to_ns(m.header.stamp): m for m in got['/pipe/mask']}
    csv = np.genfromtxt(result.with_suffix('.csv'), delimiter=',', names=True, dtype=None,
                        encoding=None)
    assert sorted(int(s) for s in csv['stamp_ns']) == stamps
    # A mask for every tracked frame after the init frame (whose result is the given box) and
    # none while lost (an empty detections array).
    tracked = [int(s) for s, st in zip(csv['stamp_ns'], csv['status'])
               if st == 'tracked' and int(s) != stamps[0]]
    assert len(tracked) >= 15, list(csv['status'])
    assert sorted(masks) == sorted(tracked)
    assert {(m.width, m.height, m.encoding) for m in masks.values()} == {(320, 240, 'mono8')}
    recorded = {int(s): str(p) for s, p in zip(csv['stamp_ns'], csv['mask']) if str(p)}
    assert sorted(recorded) == sorted(tracked)
    js = []
    for stamp in tracked:
        i = stamps.index(stamp)
        on_disk = cv2.imread(recorded[stamp], cv2.IMREAD_GRAYSCALE) > 127
        published = np.frombuffer(bytes(masks[stamp].data), np.uint8).reshape(240, 320) > 127
        js.append(region_similarity(on_disk, truth[i]))
        assert js[-1] == region_similarity(published, truth[i])
    assert np.mean(js) > 0.4, np.round(js, 2)
