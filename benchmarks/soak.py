# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Soak: many frames through tracker_node, its memory and latency sampled over the run.

Starts tracker_node in its own process (default tracker, reliable QoS, the large-images Fast
DDS profile), publishes a moving target at 640x480 from this process, re-initialises every
--reinit frames, and samples the node's resident memory (VmRSS) every 100 frames and every
frame's latency (image publish -> detections receipt, one machine's monotonic clock) and the
tracker's update time (the node's ~/timing). Prints the memory at 1k frames and at the end,
its growth after the first 1k (target: under 5%), and per block of 1k frames the latency and
update percentiles (target: p95 flat); writes a JSON report with versions and settings.

  .venv/bin/python benchmarks/soak.py [--frames 10000] [--rate 20] [--tracker mlt]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import subprocess
import sys
import time

from geometry_msgs.msg import Vector3Stamped
from meta_tracker_ros.ros import conversions as conv
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from tqdm import tqdm
from vision_msgs.msg import Detection2D, Detection2DArray

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_mlt_speed import environment  # noqa: E402, I100
from bench_node_overhead import scene  # noqa: E402

PROFILE = HERE.parent / 'config' / 'fastdds_large_images.xml'


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB (VmRSS)."""
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f'no VmRSS for pid {pid}')


def percentiles(a: np.ndarray) -> dict[str, float]:
    return {'p50': float(np.percentile(a, 50)), 'p95': float(np.percentile(a, 95)),
            'p99': float(np.percentile(a, 99)), 'max': float(a.max())} if len(a) else {}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--tracker', default='mlt')
    ap.add_argument('--frames', type=int, default=10000)
    ap.add_argument('--rate', type=float, default=20.0,
                    help='frames per second; below the tracker speed so every frame is tracked')
    ap.add_argument('--reinit', type=int, default=500, help='re-initialise every N frames')
    ap.add_argument('--block', type=int, default=1000, help='frames per latency block')
    ap.add_argument('--width', type=int, default=640)
    ap.add_argument('--height', type=int, default=480)
    ap.add_argument('--out', type=Path, default=Path('out/soak.json'))
    args = ap.parse_args(argv)
    os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', str(PROFILE))
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    args.out.parent.mkdir(parents=True, exist_ok=True)
    log = open(args.out.with_suffix('.node.log'), 'w')
    proc = subprocess.Popen(
        [sys.executable, '-m', 'meta_tracker_ros.ros.tracker_node', '--ros-args', '-r',
         '__ns:=/soak', '-p', f'tracker:={args.tracker}', '-p', 'image_qos:=reliable',
         '-p', 'num_threads:=1'], stdout=log, stderr=subprocess.STDOUT)
    rclpy.init()
    node = Node('soak_client')
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                          history=HistoryPolicy.KEEP_LAST)
    pub = node.create_publisher(Image, '/soak/image', reliable)
    init_pub = node.create_publisher(Detection2D, '/soak/target/init', 10)
    sent: dict[int, int] = {}
    received: dict[int, int] = {}
    update: dict[int, float] = {}
    tracked: dict[int, bool] = {}
    node.create_subscription(Detection2DArray, '/soak/detections', lambda m: (
        received.__setitem__(conv.stamp_to_ns(m.header.stamp), time.monotonic_ns()),
        tracked.__setitem__(conv.stamp_to_ns(m.header.stamp), bool(m.detections))), 1000)
    node.create_subscription(Vector3Stamped, '/soak/tracker_node/timing', lambda m: (
        update.__setitem__(conv.stamp_to_ns(m.header.stamp), m.vector.x)), 1000)
    end = time.monotonic() + 120
    while (pub.get_subscription_count() == 0 or init_pub.get_subscription_count() == 0
           or node.count_publishers('/soak/detections') == 0) and time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)
    if pub.get_subscription_count() == 0:
        print(f'the node did not come up; see {log.name}', file=sys.stderr)
        proc.terminate()
        return 1
    frame = scene(args.width, args.height)
    period_ns = round(1e9 / args.rate)
    first = 2_000_000_000_000
    memory: list[tuple[int, float]] = [(0, rss_mib(proc.pid))]
    t_next = time.monotonic()
    try:
        for i in tqdm(range(args.frames), desc='soak', mininterval=10.0):
            img, box = frame(i)
            stamp = first + i * period_ns
            msg = conv.rgb_to_image(img, 'rgb8')
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 1_000_000_000)
            if i % args.reinit == 0:
                init = Detection2D()
                init.header.stamp = msg.header.stamp
                init.bbox.center.position.x, init.bbox.center.position.y = box.cx, box.cy
                init.bbox.size_x, init.bbox.size_y = float(box.w), float(box.h)
                init_pub.publish(init)
            sent[stamp] = time.monotonic_ns()
            pub.publish(msg)
            if (i + 1) % 100 == 0:
                memory.append((i + 1, rss_mib(proc.pid)))
            t_next += period_ns * 1e-9
            while time.monotonic() < t_next:
                executor.spin_once(timeout_sec=max(0.0, t_next - time.monotonic()))
        end = time.monotonic() + 5
        while len(received) < len(sent) and time.monotonic() < end:
            executor.spin_once(timeout_sec=0.05)
        memory.append((args.frames, rss_mib(proc.pid)))
    finally:
        executor.remove_node(node)
        node.destroy_node()
        proc.terminate()
        proc.wait(timeout=30)
        rclpy.try_shutdown()
        log.close()

    stamps = sorted(sent)
    blocks = []
    for b in range(0, len(stamps), args.block):
        keys = stamps[b:b + args.block]
        lat = np.array([(received[k] - sent[k]) * 1e-6 for k in keys if k in received])
        upd = np.array([update[k] for k in keys if k in update and tracked.get(k)])
        blocks.append({'frames': [b, b + len(keys)], 'returned': len(lat),
                       'tracked': int(sum(tracked.get(k, False) for k in keys)),
                       'latency_ms': percentiles(lat), 'update_ms': percentiles(upd)})
    mem = dict(memory)
    at_1k = mem.get(min(1000, args.frames), memory[-1][1])
    growth = (memory[-1][1] - at_1k) / at_1k * 100.0
    report = {'benchmark': 'soak', 'tracker': args.tracker, 'frames': args.frames,
              'rate_hz': args.rate, 'reinit_every': args.reinit,
              'resolution': [args.width, args.height], 'image_qos': 'reliable',
              'fastdds_profiles_file': os.environ['FASTDDS_DEFAULT_PROFILES_FILE'],
              **environment(argv), 'memory_mib': memory, 'rss_at_1k_mib': at_1k,
              'rss_end_mib': memory[-1][1], 'growth_after_1k_percent': growth,
              'blocks': blocks}
    args.out.write_text(json.dumps(report, indent=2) + '\n')
    print(f'{args.tracker}, {args.frames} frames at {args.width}x{args.height}, '
          f'{args.rate:g} Hz, re-init every {args.reinit}')
    print(f'node RSS: start {memory[0][1]:.0f} MiB, at 1k frames {at_1k:.0f} MiB, at '
          f'{args.frames} frames {memory[-1][1]:.0f} MiB (growth after 1k {growth:+.1f}%)')
    print('block          returned  tracked  latency p50 / p95 / max ms   update p50 / p95 ms')
    for b in blocks:
        lat, upd = b['latency_ms'], b['update_ms']
        print(f'{b["frames"][0]:5d}-{b["frames"][1]:5d}  {b["returned"]:8d} {b["tracked"]:8d}  '
              f'{lat.get("p50", float("nan")):8.1f} {lat.get("p95", float("nan")):7.1f} '
              f'{lat.get("max", float("nan")):7.1f}      {upd.get("p50", float("nan")):6.1f} '
              f'{upd.get("p95", float("nan")):6.1f}')
    print(f'report: {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
