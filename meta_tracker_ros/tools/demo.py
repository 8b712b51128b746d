# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
meta-tracker-demo: the whole pipeline on an embedded default sequence (what `make demo` runs).

1. Generate the demo sequence (procedural, deterministic: seed and spec below) in our format.
2. Write it to a rosbag2 (mcap) as a 30 Hz camera would record it (seq_to_bag).
3. Start tracker_node (default tracker and its config), result_recorder, then send the first
   frame's ground-truth box on target/init stamped with that frame, and play the bag into the
   node over Fast DDS (bag_player, reliable QoS, every frame tracked).
4. Score the recorded detections against the ground truth (success AUC, precision) and write
   an annotated video: ground truth green, tracker red (grey while lost).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import subprocess
import sys
import time

import cv2
from meta_tracker_ros.core.types import Box
from meta_tracker_ros.data.generator import generate_sequence
from meta_tracker_ros.data.spec import SequenceSpec
from meta_tracker_ros.data.writer import write_list, write_sequence
from meta_tracker_ros.eval.metrics import evaluate_ope
from meta_tracker_ros.eval.readers.synthetic import read_synthetic
from meta_tracker_ros.tools.bag_writer import BagOptions, write_bag
import numpy as np

REPO = Path(__file__).resolve().parents[2]
# The embedded default: one 300-frame, 640x480 sequence of moderate difficulty (occlusion,
# distractors, scale change, blur). Its seed lies in the synth-mini range, outside every
# training, tuning and test suite.
DEMO_SEED = 5_900_001
DEMO_FRAMES = 300
DEMO_DIFFICULTY = 0.45


def _python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, '-m', module, *args]


def make_sequence(out: Path) -> Path:
    root = out / 'sequence'
    name = 'demo'
    if not (root / name / 'groundtruth.txt').is_file():
        spec = SequenceSpec.from_difficulty(DEMO_DIFFICULTY, width=640, height=480)
        write_sequence(generate_sequence(DEMO_SEED, DEMO_FRAMES, spec), root, name,
                       extra_meta={'purpose': 'make demo'}, overwrite=True)
        write_list(root, [name])
    return root


def annotate(seq, boxes: np.ndarray, lost: np.ndarray, path: Path, fps: float = 30.0) -> None:
    """Write the sequence with ground truth (green) and results (red / grey when lost)."""
    first = seq.load_image(0)
    h, w = first.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (w, h))
    for i in range(len(seq)):
        img = cv2.cvtColor(seq.load_image(i), cv2.COLOR_RGB2BGR)
        if np.isfinite(seq.gt[i]).all():
            x, y, bw, bh = seq.gt[i]
            cv2.rectangle(img, (int(x), int(y)), (int(x + bw), int(y + bh)), (0, 200, 0), 2)
        if np.isfinite(boxes[i]).all():
            x, y, bw, bh = boxes[i]
            colour = (160, 160, 160) if lost[i] else (0, 0, 255)
            cv2.rectangle(img, (int(x), int(y)), (int(x + bw), int(y + bh)), colour, 2)
        cv2.putText(img, f'{i + 1}/{len(seq)}', (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (255, 255, 255), 2)
        writer.write(img)
    writer.release()


def run(tracker: str, out: Path, rate: float, params_file: Path | None) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    seq = read_synthetic(make_sequence(out))[0]
    bag = out / 'bag'
    options = BagOptions(fps=30.0, topic='/camera/image_raw')
    if not (bag / 'metadata.yaml').is_file():
        frames = (seq.load_image(i) for i in range(len(seq)))
        write_bag(frames, bag, options, gt=seq.gt, absent=seq.absent, total=len(seq),
                  info={'sequence': seq.name, 'seed': DEMO_SEED})

    import rclpy
    from rclpy.node import Node
    from vision_msgs.msg import Detection2D

    env = dict(os.environ)
    env.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    # A DDS domain of its own unless the user chose one, so other ROS traffic on this
    # machine (another demo, tests) cannot mix with the demo's topics.
    env.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ['ROS_DOMAIN_ID'] = env['ROS_DOMAIN_ID']
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = env['ROS_AUTOMATIC_DISCOVERY_RANGE']
    logs = out / 'logs'
    logs.mkdir(exist_ok=True)
    params = ['--params-file', str(params_file)] if params_file else []
    node_cmd = _python_module(
        'meta_tracker_ros.ros.tracker_node', '--ros-args', *params, '-p', f'tracker:={tracker}',
        '-p', 'image_qos:=reliable', '-p', 'process_every_frame:=true', '-p', 'init_wait:=30.0',
        '-r', 'image:=/camera/image_raw', '-r', 'camera_info:=/camera/camera_info')
    result_file = out / 'result.txt'
    rec_cmd = _python_module('meta_tracker_ros.tools.recorder', str(result_file),
                             '--image-topic', '/camera/image_raw', '--expected-frames',
                             str(len(seq)), '--timeout', '120')
    procs = []
    try:
        with open(logs / 'tracker_node.log', 'w') as node_log:
            procs.append(subprocess.Popen(node_cmd, stdout=node_log, stderr=subprocess.STDOUT,
                                          env=env))
            procs.append(subprocess.Popen(rec_cmd, stdout=open(logs / 'recorder.log', 'w'),
                                          stderr=subprocess.STDOUT, env=env))
            rclpy.init()
            client = Node('demo_init')
            pub = client.create_publisher(Detection2D, '/target/init', 10)
            end = time.monotonic() + 60
            while pub.get_subscription_count() == 0 and time.monotonic() < end:
                rclpy.spin_once(client, timeout_sec=0.1)
                if procs[0].poll() is not None:
                    raise RuntimeError(f'tracker_node exited; see {logs / "tracker_node.log"}')
            if pub.get_subscription_count() == 0:
                raise RuntimeError('tracker_node did not subscribe to /target/init in 60 s')
            start = seq.init_index()
            box = Box(*seq.gt[start])
            init = Detection2D()
            stamp_ns = round(options.start_time * 1e9) + round(start * 1e9 / options.fps)
            init.header.stamp.sec, init.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
            init.header.frame_id = options.frame_id
            init.bbox.center.position.x, init.bbox.center.position.y = box.cx, box.cy
            init.bbox.size_x, init.bbox.size_y = box.w, box.h
            pub.publish(init)
            rclpy.spin_once(client, timeout_sec=0.2)
            print(f'demo: tracking {seq.name} ({len(seq)} frames) with {tracker}; '
                  f'init box {box} on stamp {stamp_ns * 1e-9:.3f}')
            player = subprocess.run(_python_module(
                'meta_tracker_ros.tools.bag_player', str(bag), '--rate', str(rate),
                '--wait-subscribers', '2', '--topics', '/camera/image_raw',
                '/camera/camera_info'), env=env)
            if player.returncode != 0:
                raise RuntimeError(f'bag_player failed with code {player.returncode}')
            procs[1].wait(timeout=180)
            client.destroy_node()
            rclpy.try_shutdown()
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()

    boxes = np.loadtxt(result_file, delimiter=',', ndmin=2)
    lost = ~np.isfinite(boxes).all(axis=1)
    # A lost frame counts as a miss for the success curve (zero overlap).
    scored = np.where(lost[:, None], np.array([-1e4, -1e4, 1.0, 1.0]), boxes)
    scores = evaluate_ope(seq, scored).as_dict()
    video = out / 'demo.mp4'
    annotate(seq, boxes, lost, video)
    node_text = (logs / 'tracker_node.log').read_text()
    used = tracker
    if 'running the fallback tracker' in node_text:
        used = node_text.split('running the fallback tracker ')[1].split()[0]
    summary = {'sequence': seq.name, 'frames': len(seq), 'tracker_requested': tracker,
               'tracker_used': used, 'auc': scores['auc'], 'precision_20px': scores['p20'],
               'frames_lost': int(lost.sum()), 'result_file': str(result_file),
               'video': str(video), 'seed': DEMO_SEED}
    (out / 'summary.json').write_text(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='meta-tracker-demo', description=__doc__.split(
        '\n\n', 1)[0].strip())
    parser.add_argument('--tracker', default='mlt', help='tracker registry name')
    parser.add_argument('--params-file', type=Path,
                        help='node parameters YAML (default: config/<tracker>.yaml)')
    parser.add_argument('--out', type=Path, default=REPO / 'out' / 'demo')
    parser.add_argument('--rate', type=float, default=1.0, help='bag playback rate')
    args = parser.parse_args(argv)
    params = args.params_file or REPO / 'config' / f'{args.tracker}.yaml'
    summary = run(args.tracker, args.out, args.rate, params if params.is_file() else None)
    print(f"demo: {summary['tracker_used']} on {summary['sequence']} ({summary['frames']} "
          f"frames): success AUC {summary['auc']:.3f}, precision@20px "
          f"{summary['precision_20px']:.3f}, {summary['frames_lost']} frames reported lost")
    print(f"demo: annotated video {summary['video']}; results {summary['result_file']}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
