# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
result_recorder: record the tracker's detections as an OTB result file and a per-frame CSV.

Frames are associated by header stamp (the node copies the image header into its detections),
never by arrival order. Rows are sorted by stamp, one per frame: every image seen on
--image-topic, and every detections message (also without an image topic).

Result file (OTB format): x,y,w,h in 0-based pixels per frame; a frame whose detections array
is empty, or that has an image but no detections message, is `nan,nan,nan,nan` (lost).
CSV: stamp, receive times, latency = detections receive time - image receive time (the image's
receive time at this recorder stands for its publish time), box, score, track id, status.
With --mask-topic, every mask (mono8 Image, the node's `mask`) is written as DIR/<stamp_ns>.png
(--mask-dir, default OUTPUT's name + _masks) and named in the CSV's mask column, so the
evaluation can score it (eval.masks). With --bag, the raw messages of the subscribed topics
are also written to a rosbag2 (mcap) with their receive times. SIGINT/SIGTERM stop it
cleanly: the files are written, exit 0.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
import math
from pathlib import Path
import sys
import time

import cv2
from meta_tracker_ros.ros.conversions import (detection_to_box, image_to_rgb,
                                              ImageConversionError, stamp_to_ns)
from meta_tracker_ros.tools.common import (parse_args, QOS_CHOICES, qos_profile, StopSignals,
                                           typestore)
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.serialization import deserialize_message
from rclpy.signals import SignalHandlerOptions
from rosbags.rosbag2 import StoragePlugin, Writer
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

CSV_FIELDS = ('frame', 'stamp_ns', 'image_receive_ns', 'detections_receive_ns', 'latency_ms',
              'x', 'y', 'w', 'h', 'score', 'track_id', 'class_id', 'n_detections', 'status',
              'mask')


@dataclass
class FrameResult:
    """The detections message of one frame, reduced to what the result files need."""

    receive_ns: int
    box: tuple[float, float, float, float] | None
    score: float
    track_id: str
    class_id: str
    n_detections: int


def reduce_detections(msg: Detection2DArray, receive_ns: int) -> FrameResult:
    """Reduce an array to its highest-scoring detection (box None when the array is empty)."""
    if not msg.detections:
        return FrameResult(receive_ns, None, math.nan, '', '', 0)

    def score(det):
        return det.results[0].hypothesis.score if det.results else -math.inf
    best = max(msg.detections, key=score)
    box = detection_to_box(best)
    hyp = best.results[0].hypothesis if best.results else None
    return FrameResult(receive_ns, (box.x, box.y, box.w, box.h),
                       hyp.score if hyp else math.nan, best.id, hyp.class_id if hyp else '',
                       len(msg.detections))


class ResultRecorder:
    """Subscriptions (raw, so they can also go to a bag) and the per-stamp tables."""

    def __init__(self, node: Node, *, detections_topic: str = 'detections',
                 image_topic: str | None = None, qos: str = 'reliable',
                 bag: Path | None = None, mask_topic: str | None = None,
                 mask_dir: Path | None = None) -> None:
        self.node = node
        self.results: dict[int, FrameResult] = {}
        self.masks: dict[int, Path] = {}
        self.mask_dir = mask_dir
        if mask_topic and mask_dir is None:
            raise ValueError('a mask topic needs a mask folder')
        self.image_receive: dict[int, int] = {}
        self.duplicates = 0
        self.last_message = time.monotonic()
        profile = qos_profile(qos)
        self.det_sub = node.create_subscription(Detection2DArray, detections_topic,
                                                self._on_detections, profile, raw=True)
        self.image_sub = (node.create_subscription(Image, image_topic, self._on_image, profile,
                                                   raw=True) if image_topic else None)
        self.mask_sub = (node.create_subscription(Image, mask_topic, self._on_mask, profile,
                                                  raw=True) if mask_topic else None)
        if self.mask_sub is not None:
            mask_dir.mkdir(parents=True, exist_ok=True)
        self.writer = None
        if bag is not None:
            store = typestore()
            self.writer = Writer(bag, version=9, storage_plugin=StoragePlugin.MCAP)
            self.writer.open()
            self.det_conn = self.writer.add_connection(
                self.det_sub.topic_name, 'vision_msgs/msg/Detection2DArray', typestore=store)
            if self.image_sub is not None:
                self.image_conn = self.writer.add_connection(
                    self.image_sub.topic_name, 'sensor_msgs/msg/Image', typestore=store)
            if self.mask_sub is not None:
                self.mask_conn = self.writer.add_connection(
                    self.mask_sub.topic_name, 'sensor_msgs/msg/Image', typestore=store)

    def _on_detections(self, raw: bytes) -> None:
        receive_ns = time.time_ns()
        self.last_message = time.monotonic()
        msg = deserialize_message(raw, Detection2DArray)
        stamp = stamp_to_ns(msg.header.stamp)
        if stamp in self.results:
            self.duplicates += 1
        self.results[stamp] = reduce_detections(msg, receive_ns)
        if self.writer is not None:
            self.writer.write(self.det_conn, receive_ns, raw)

    def _on_image(self, raw: bytes) -> None:
        receive_ns = time.time_ns()
        self.last_message = time.monotonic()
        stamp = stamp_to_ns(deserialize_message(raw, Image).header.stamp)
        self.image_receive.setdefault(stamp, receive_ns)
        if self.writer is not None:
            self.writer.write(self.image_conn, receive_ns, raw)

    def _on_mask(self, raw: bytes) -> None:
        receive_ns = time.time_ns()
        self.last_message = time.monotonic()
        msg = deserialize_message(raw, Image)
        stamp = stamp_to_ns(msg.header.stamp)
        try:
            mask = image_to_rgb(msg)[..., 0]
        except ImageConversionError as exc:
            print(f'result_recorder: mask at {stamp} dropped: {exc}', file=sys.stderr)
            return
        path = self.mask_dir / f'{stamp}.png'
        cv2.imwrite(str(path), np.where(mask > 127, 255, 0).astype(np.uint8))
        self.masks[stamp] = path
        if self.writer is not None:
            self.writer.write(self.mask_conn, receive_ns, raw)

    def drain(self, executor: SingleThreadedExecutor, quiet: float = 0.2,
              limit: float = 2.0) -> None:
        """
        Take what is still queued (until `quiet` s pass without a message, at most `limit` s).

        The executor may serve detections before images that arrived earlier, so images can
        still wait in their queue when --expected-frames is reached (seen in the tests).
        """
        end = time.monotonic() + limit
        while time.monotonic() - self.last_message < quiet and time.monotonic() < end:
            executor.spin_once(timeout_sec=0.02)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def rows(self) -> list[dict]:
        """One dict per frame (CSV_FIELDS), sorted by stamp."""
        rows = []
        for i, stamp in enumerate(sorted(set(self.results) | set(self.image_receive))):
            res = self.results.get(stamp)
            image_ns = self.image_receive.get(stamp)
            box = res.box if res is not None and res.box is not None else (math.nan,) * 4
            rows.append({
                'frame': i, 'stamp_ns': stamp, 'image_receive_ns': image_ns or '',
                'detections_receive_ns': res.receive_ns if res else '',
                'latency_ms': (f'{(res.receive_ns - image_ns) / 1e6:.3f}'
                               if res is not None and image_ns is not None else ''),
                'x': box[0], 'y': box[1], 'w': box[2], 'h': box[3],
                'score': res.score if res else math.nan,
                'track_id': res.track_id if res else '', 'class_id': res.class_id if res else '',
                'n_detections': res.n_detections if res else '',
                'status': ('no_result' if res is None else 'lost' if res.box is None
                           else 'tracked'),
                'mask': str(self.masks[stamp]) if stamp in self.masks else ''})
        return rows


def write_results(rows: list[dict], result_file: Path, csv_file: Path) -> None:
    """Write the OTB result file (x,y,w,h per frame, nan when lost) and the per-frame CSV."""
    for path in (result_file, csv_file):
        path.parent.mkdir(parents=True, exist_ok=True)
    with result_file.open('w') as f:
        for r in rows:
            f.write(','.join(f'{r[k]:.3f}' if math.isfinite(r[k]) else 'nan'
                             for k in ('x', 'y', 'w', 'h')) + '\n')
    with csv_file.open('w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def main(args: list[str] | None = None) -> int:
    """Console script result_recorder."""
    parser = argparse.ArgumentParser(
        prog='result_recorder', description=__doc__.strip().split('\n\n', 1)[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('output', type=Path, help='result file to write (OTB format)')
    parser.add_argument('--csv', type=Path, help='per-frame CSV (default: OUTPUT with .csv)')
    parser.add_argument('--bag', type=Path, help='also record the messages to this new bag')
    parser.add_argument('--detections-topic', default='detections')
    parser.add_argument('--image-topic', help='also subscribe to the images (frames without '
                        'results become nan rows; latency is measured)')
    parser.add_argument('--mask-topic', help='also record the masks (mono8 images) as PNGs')
    parser.add_argument('--mask-dir', type=Path, help='folder of the mask PNGs (default: '
                        'OUTPUT without suffix + _masks)')
    parser.add_argument('--qos', choices=QOS_CHOICES, default='reliable')
    parser.add_argument('--expected-frames', type=int, metavar='N',
                        help='exit once detections for N distinct stamps have arrived')
    parser.add_argument('--timeout', type=float, metavar='SEC',
                        help='exit after SEC seconds without any message (counted from start)')
    opts, argv = parse_args(parser, args)
    if opts.expected_frames is not None and opts.expected_frames < 1:
        parser.error('--expected-frames must be at least 1')
    if opts.timeout is not None and opts.timeout <= 0:
        parser.error('--timeout must be positive')
    if opts.bag is not None and opts.bag.exists():
        parser.error(f'--bag {opts.bag} exists; not overwriting it')
    csv_file = opts.csv or opts.output.with_suffix('.csv')
    stop = StopSignals()
    outcome = 'stopped by '
    with rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.NO):
        node = Node('result_recorder')
        mask_dir = opts.mask_dir or opts.output.with_name(opts.output.stem + '_masks')
        recorder = ResultRecorder(node, detections_topic=opts.detections_topic,
                                  image_topic=opts.image_topic, qos=opts.qos, bag=opts.bag,
                                  mask_topic=opts.mask_topic,
                                  mask_dir=mask_dir if opts.mask_topic else None)
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        try:
            while not stop:
                executor.spin_once(timeout_sec=0.05)
                if (opts.expected_frames is not None
                        and len(recorder.results) >= opts.expected_frames):
                    outcome = 'complete'
                    recorder.drain(executor)
                    break
                if (opts.timeout is not None
                        and time.monotonic() - recorder.last_message > opts.timeout):
                    outcome = 'timeout'
                    break
            else:
                outcome += stop.received
        finally:
            recorder.close()
    rows = recorder.rows()
    write_results(rows, opts.output, csv_file)
    lost = sum(r['status'] != 'tracked' for r in rows)
    latencies = [float(r['latency_ms']) for r in rows if r['latency_ms'] != '']
    print(f'result_recorder: {outcome}: {len(rows)} frames ({lost} lost or without result) -> '
          f'{opts.output}, {csv_file}' + (f'; latency median {np.median(latencies):.1f} ms'
                                          if latencies else ''))
    if recorder.duplicates:
        print(f'result_recorder: warning: {recorder.duplicates} detections messages repeated '
              'a stamp (the last one was kept)', file=sys.stderr)
    if outcome == 'timeout' and (opts.expected_frames is not None or not recorder.results):
        print(f'result_recorder: error: timed out with {len(recorder.results)} results'
              + (f' of {opts.expected_frames} expected' if opts.expected_frames else ''),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
