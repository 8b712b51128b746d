# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
seq_to_bag: a tracking sequence or a video -> rosbag2 (mcap), as a camera would record it.

Topics (camera_info lives in the image topic's namespace):
  <topic>                sensor_msgs/msg/Image in the requested encoding
  <topic ns>/camera_info sensor_msgs/msg/CameraInfo: pinhole K from the image size and --hfov,
                         plumb_bob distortion with zero coefficients
  /groundtruth           vision_msgs/msg/Detection2DArray: the ground-truth box with the
                         image's header (an empty array where the target is absent)

header.stamp = start + i / fps exactly; the bag's receive time adds a transport delay and a
small deterministic (seeded) jitter, as a recorder beside a real camera sees. The ground truth
is also written to <bag>/groundtruth.txt: x,y,w,h in 0-based pixels, one line per frame, `nan`
where absent. Sequences are read with the eval readers (meta_tracker_ros.eval.readers).

Messages are built with meta_tracker_ros.ros.conversions and serialized by rclpy, so the bytes
are exactly what a ROS publisher of the same message sends (and no conversion code is written
twice); rosbags stores them with the definitions and type hashes of its typestore
(tools.common.typestore: ROS 2 Kilted plus vision_msgs from its .msg files).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
import itertools
import json
import math
from pathlib import Path
import posixpath
import shutil
import sys

from builtin_interfaces.msg import Time
import cv2
from meta_tracker_ros.core.types import Box, TrackResult
from meta_tracker_ros.eval.readers.common import DatasetError, read_rows
from meta_tracker_ros.eval.readers.got10k import read_got10k_sequence
from meta_tracker_ros.eval.readers.otb import read_otb_sequence
from meta_tracker_ros.eval.readers.synthetic import read_synthetic_sequence
from meta_tracker_ros.eval.readers.uav import read_uav
from meta_tracker_ros.eval.sequence import Sequence
from meta_tracker_ros.ros.conversions import (detection_array, result_to_detection,
                                              rgb_to_image, SUPPORTED_ENCODINGS)
from meta_tracker_ros.tools.common import typestore
import numpy as np
from rclpy.serialization import serialize_message
from rosbags.rosbag2 import StoragePlugin, Writer
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header
from tqdm import tqdm

FORMATS = ('otb', 'uav', 'uav20l', 'got10k', 'synth', 'video')
VIDEO_SUFFIXES = frozenset({'.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.mpg', '.mpeg'})
GROUNDTRUTH_TOPIC = '/groundtruth'
GROUNDTRUTH_FILE = 'groundtruth.txt'
DEFAULT_START_TIME = 1_767_225_600.0  # 2026-01-01T00:00:00Z: fixed so bags are reproducible


class InputError(ValueError):
    """An input that cannot be turned into a bag (missing frames, bad ground truth)."""


@dataclass(frozen=True)
class BagOptions:
    """How frames become messages; recorded in the bag's metadata (custom_data)."""

    topic: str = '/camera/image_raw'
    encoding: str = 'rgb8'
    fps: float = 30.0
    frame_id: str = 'camera'
    start_time: float = DEFAULT_START_TIME
    hfov_deg: float = 60.0
    delay_ms: float = 2.0
    jitter_ms: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.encoding not in SUPPORTED_ENCODINGS:
            raise ValueError(f'unsupported encoding {self.encoding!r}; supported: '
                             f'{", ".join(SUPPORTED_ENCODINGS)}')
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f'fps must be positive, got {self.fps}')
        if not 0 < self.hfov_deg < 180:
            raise ValueError(f'hfov must be in (0, 180) degrees, got {self.hfov_deg}')
        if self.delay_ms < 0 or self.jitter_ms < 0:
            raise ValueError('delay and jitter must be non-negative')
        if not self.topic.startswith('/'):
            raise ValueError(f'topic must be absolute (start with /), got {self.topic!r}')

    @property
    def camera_info_topic(self) -> str:
        return posixpath.join(posixpath.dirname(self.topic), 'camera_info')


def camera_info(width: int, height: int, hfov_deg: float, header: Header) -> CameraInfo:
    """
    Pinhole intrinsics for a width x height image with horizontal field of view hfov_deg.

    Square pixels (fy = fx), principal point at the image centre, no distortion.
    """
    fx = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
    cx, cy = width / 2.0, height / 2.0
    info = CameraInfo()
    info.header = header
    info.width, info.height = width, height
    info.distortion_model = 'plumb_bob'
    info.d = [0.0] * 5
    info.k = [fx, 0.0, cx, 0.0, fx, cy, 0.0, 0.0, 1.0]
    info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    info.p = [fx, 0.0, cx, 0.0, 0.0, fx, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return info


def detect_format(path: Path) -> str:
    """Guess the input format from its files: video, synth, otb, got10k or uav."""
    if path.is_file():
        if path.suffix.lower() in VIDEO_SUFFIXES:
            return 'video'
        raise InputError(f'{path} is a file but not a video ({", ".join(sorted(VIDEO_SUFFIXES))})')
    if not path.is_dir():
        raise InputError(f'input {path} does not exist')
    if (path / 'meta.json').is_file():
        return 'synth'
    if any(path.glob('groundtruth_rect*.txt')):
        return 'otb'
    if (path / 'groundtruth.txt').is_file():
        return 'got10k'
    if (path / 'anno').is_dir() or path.parent.parent.name == 'data_seq':
        return 'uav'
    raise InputError(f'cannot tell the format of {path}: pass --format')


def _uav_sequences(path: Path, version: str) -> list[Sequence]:
    """UAV123/UAV20L from the dataset root or one image folder <root>/data_seq/UAV123/<f>."""
    if (path / 'anno').is_dir():
        return read_uav(path, version)
    if path.parent.parent.name != 'data_seq' or not (path.parents[2] / 'anno').is_dir():
        raise InputError(f'{path} is neither a UAV123 root (with anno/) nor an image folder '
                         '<root>/data_seq/UAV123/<folder>')
    return [s for s in read_uav(path.parents[2], version) if s.meta['folder'] == path.name]


def load_input(path: Path, fmt: str, name: str | None = None) -> Sequence:
    """
    Read one sequence with the eval readers; `name` picks one where the input holds several.

    otb: one sequence folder (img/ + groundtruth_rect*.txt; multi-target folders such as
    Jogging hold Jogging-1 and Jogging-2). uav, uav20l: the dataset root or one image folder.
    got10k: one sequence folder (split = its parent folder's name, else val).
    synth: one sequence folder written by meta_tracker_ros.data.
    """
    try:
        if fmt == 'otb':
            seqs = read_otb_sequence(path)
        elif fmt in ('uav', 'uav20l'):
            seqs = _uav_sequences(path, 'UAV20L' if fmt == 'uav20l' else 'UAV123')
        elif fmt == 'got10k':
            split = path.parent.name if path.parent.name in ('train', 'val', 'test') else 'val'
            seqs = [read_got10k_sequence(path, split)]
        elif fmt == 'synth':
            seqs = [read_synthetic_sequence(path)]
        else:
            raise InputError(f'{fmt!r} is not a sequence format')
    except DatasetError as exc:
        raise InputError(str(exc)) from exc
    names = [s.name for s in seqs]
    if name is not None:
        if name not in names:
            raise InputError(f'no sequence {name!r} in {path}; it holds {", ".join(names)}')
        return seqs[names.index(name)]
    if len(seqs) != 1:
        listed = ', '.join(names[:10]) + (', ...' if len(names) > 10 else '')
        raise InputError(f'{path} holds {len(seqs)} sequences ({listed}): pick one with '
                         '--sequence')
    return seqs[0]


def video_frames(path: Path) -> tuple[Iterator[np.ndarray], int, float]:
    """(RGB frame iterator, frame count as the container reports it, fps or 0 if unknown)."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise InputError(f'OpenCV cannot open video {path}')
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    fps = float(cap.get(cv2.CAP_PROP_FPS))

    def frames() -> Iterator[np.ndarray]:
        try:
            while True:
                ok, bgr = cap.read()
                if not ok:
                    return
                yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        finally:
            cap.release()
    return frames(), max(count, 0), fps if math.isfinite(fps) and fps > 0 else 0.0


def _stamp(ns: int) -> Time:
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def write_bag(frames: Iterable[np.ndarray], output: Path, options: BagOptions,
              gt: np.ndarray | None = None, absent: np.ndarray | None = None,
              total: int | None = None, label: str = 'target', info: dict | None = None,
              progress: bool = True) -> int:
    """
    Write RGB frames (and the ground truth when given) to a new mcap bag; return the count.

    frames: (H, W, 3) uint8 RGB. gt: (N, 4) 0-based boxes of the first N frames, NaN rows where
    absent; later frames get no ground truth. absent: (N,) bool, frames whose ground truth is
    published empty (and written as nan). info: provenance stored with the options in the
    bag's metadata (custom_data 'meta_tracker_ros.seq_to_bag', JSON).
    """
    store = typestore()
    period_ns = 1e9 / options.fps
    start_ns = round(options.start_time * 1e9)
    rng = np.random.default_rng(options.seed)
    written = 0
    boxes: list[np.ndarray] = []
    writer = Writer(output, version=9, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    try:
        writer.set_custom_data('meta_tracker_ros.seq_to_bag', json.dumps(
            {'options': asdict(options), **(info or {})}, default=str))
        image_conn = writer.add_connection(options.topic, 'sensor_msgs/msg/Image',
                                           typestore=store)
        info_conn = writer.add_connection(options.camera_info_topic,
                                          'sensor_msgs/msg/CameraInfo', typestore=store)
        gt_conn = (writer.add_connection(GROUNDTRUTH_TOPIC, 'vision_msgs/msg/Detection2DArray',
                                         typestore=store) if gt is not None else None)
        last_receive = -1
        for i, rgb in enumerate(tqdm(frames, total=total, unit='frame', disable=not progress,
                                     desc=f'{output.name}')):
            stamp_ns = start_ns + round(i * period_ns)
            header = Header(stamp=_stamp(stamp_ns), frame_id=options.frame_id)
            delay_ms = options.delay_ms + rng.uniform(0.0, options.jitter_ms)
            receive = max(stamp_ns + round(delay_ms * 1e6), last_receive + 1)
            image = rgb_to_image(rgb, options.encoding, header)
            writer.write(image_conn, receive, serialize_message(image))
            # camera_info follows its image a few microseconds later, as from a driver.
            writer.write(info_conn, receive + 20_000, serialize_message(
                camera_info(image.width, image.height, options.hfov_deg, header)))
            last_receive = receive + 20_000
            if gt_conn is not None and i < len(gt):
                box = Box(*gt[i])
                visible = box.is_finite() and not (absent is not None and absent[i])
                dets = ([result_to_detection(TrackResult(box, 1.0), header, 'groundtruth', label)]
                        if visible else [])
                writer.write(gt_conn, receive + 40_000,
                             serialize_message(detection_array(header, dets)))
                boxes.append(gt[i] if visible else np.full(4, np.nan))
                last_receive = receive + 40_000
            written += 1
    except BaseException:
        writer.close()
        shutil.rmtree(output, ignore_errors=True)
        raise
    writer.close()
    if gt is not None:
        np.savetxt(output / GROUNDTRUTH_FILE, np.array(boxes).reshape(-1, 4), fmt='%.3f',
                   delimiter=',')
    return written


def main(args: list[str] | None = None) -> int:
    """Console script seq_to_bag."""
    parser = argparse.ArgumentParser(
        prog='seq_to_bag', description=__doc__.strip().split('\n\n', 1)[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('input', type=Path,
                        help='sequence folder (OTB, UAV123, GOT-10k, synthetic), UAV123 root '
                             'or video file')
    parser.add_argument('output', type=Path, help='bag directory to create')
    parser.add_argument('--format', choices=FORMATS, help='input format (default: guessed)')
    parser.add_argument('--sequence', help='sequence name, where the input holds several')
    parser.add_argument('--fps', type=float,
                        help="frame rate of the stamps (default: the video's, else 30)")
    parser.add_argument('--topic', default=BagOptions.topic, help='image topic')
    parser.add_argument('--encoding', default=BagOptions.encoding, choices=SUPPORTED_ENCODINGS)
    parser.add_argument('--frame-id', default=BagOptions.frame_id)
    parser.add_argument('--start-time', type=float, default=DEFAULT_START_TIME,
                        help='stamp of the first frame, seconds since the epoch')
    parser.add_argument('--max-frames', type=int, help='write at most this many frames')
    parser.add_argument('--hfov', type=float, default=BagOptions.hfov_deg,
                        help='horizontal field of view for camera_info, degrees')
    parser.add_argument('--delay-ms', type=float, default=BagOptions.delay_ms,
                        help='transport delay added to the receive time')
    parser.add_argument('--jitter-ms', type=float, default=BagOptions.jitter_ms,
                        help='uniform jitter added to the delay')
    parser.add_argument('--seed', type=int, default=BagOptions.seed, help='jitter seed')
    parser.add_argument('--groundtruth', type=Path,
                        help='for a video: x,y,w,h 0-based boxes, one line per frame')
    parser.add_argument('--label', default='target', help='class_id of ground-truth boxes')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing bag at OUTPUT')
    parser.add_argument('--no-progress', action='store_true')
    opts = parser.parse_args(args)
    if opts.max_frames is not None and opts.max_frames < 1:
        parser.error('--max-frames must be at least 1')
    try:
        fmt = opts.format or detect_format(opts.input)
        if fmt == 'video':
            frames, count, video_fps = video_frames(opts.input)
            gt = read_rows(opts.groundtruth) if opts.groundtruth else None
            absent, fps = None, opts.fps or video_fps or 30.0
        else:
            if opts.groundtruth:
                raise InputError('--groundtruth is for videos; sequences bring their own')
            seq = load_input(opts.input, fmt, opts.sequence)
            count, gt, absent, fps = len(seq), seq.gt, seq.absent, opts.fps or 30.0
            frames = (seq.load_image(i) for i in range(len(seq)))
        options = BagOptions(topic=opts.topic, encoding=opts.encoding, fps=fps,
                             frame_id=opts.frame_id, start_time=opts.start_time,
                             hfov_deg=opts.hfov, delay_ms=opts.delay_ms,
                             jitter_ms=opts.jitter_ms, seed=opts.seed)
        if opts.output.exists():
            if not (opts.overwrite and (opts.output / 'metadata.yaml').is_file()):
                raise InputError(f'{opts.output} exists' + (
                    ' and is not a bag; not replacing it' if opts.overwrite
                    else '; pass --overwrite to replace it'))
            shutil.rmtree(opts.output)
        if opts.max_frames is not None:
            count = min(count, opts.max_frames) if count else opts.max_frames
        n = write_bag(itertools.islice(frames, opts.max_frames), opts.output, options, gt=gt,
                      absent=absent, total=count or None, label=opts.label,
                      info={'input': str(opts.input.resolve()), 'format': fmt},
                      progress=not opts.no_progress)
    except (ValueError, OSError) as exc:
        print(f'seq_to_bag: error: {exc}', file=sys.stderr)
        return 2
    if n == 0:
        print(f'seq_to_bag: error: no frames read from {opts.input}', file=sys.stderr)
        shutil.rmtree(opts.output, ignore_errors=True)
        return 2
    print(f'wrote {n} frames to {opts.output} ({options.topic}, {options.encoding}, '
          f'{options.fps:g} fps)')
    if gt is not None and len(gt) != n:
        print(f'seq_to_bag: warning: {len(gt)} ground-truth boxes for {n} frames',
              file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
