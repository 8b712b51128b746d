# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Image and detection conversions, without a running ROS graph."""

import cv2
from meta_tracker_ros.core.types import Box, TrackResult
from meta_tracker_ros.ros import conversions as conv
import numpy as np
import pytest
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header


def _rgb(h=48, w=64, seed=0):
    rng = np.random.default_rng(seed)
    # Smooth content, so 4:2:2 chroma subsampling loses little and the check stays tight.
    small = rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


@pytest.mark.parametrize('encoding, tol', [
    ('rgb8', 0), ('bgr8', 0), ('rgba8', 0), ('bgra8', 0), ('8UC3', 0), ('rgb16', 0),
    ('bgr16', 0), ('yuv422', 12), ('uyvy', 12), ('yuv422_yuy2', 12), ('yuyv', 12)])
def test_colour_round_trip(encoding, tol):
    rgb = _rgb()
    msg = conv.rgb_to_image(rgb, encoding)
    assert msg.encoding == encoding and (msg.height, msg.width) == rgb.shape[:2]
    back = conv.image_to_rgb(msg)
    assert back.shape == rgb.shape and back.dtype == np.uint8 and back.flags.c_contiguous
    err = np.abs(back.astype(int) - rgb)
    # 4:2:2 shares chroma between pixel pairs: exact on flat areas, small on edges.
    assert err.mean() <= tol / 3 and np.percentile(err, 99) <= 2 * tol
    flat = np.full((4, 6, 3), (200, 100, 50), np.uint8)
    assert np.abs(conv.image_to_rgb(conv.rgb_to_image(flat, encoding)).astype(int)
                  - flat).max() <= min(tol, 2)


@pytest.mark.parametrize('encoding', ['mono8', '8UC1', 'mono16'])
def test_mono_round_trip(encoding):
    rgb = _rgb()
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    back = conv.image_to_rgb(conv.rgb_to_image(rgb, encoding))
    assert np.array_equal(back[:, :, 0], gray) and np.array_equal(back[:, :, 2], gray)


def test_yuv_byte_order_follows_cv_bridge():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[:] = (255, 255, 255)
    uyvy = np.frombuffer(conv.rgb_to_image(rgb, 'yuv422').data, np.uint8)
    yuyv = np.frombuffer(conv.rgb_to_image(rgb, 'yuyv').data, np.uint8)
    assert uyvy[1] == 235 and uyvy[0] == 128  # U Y V Y, BT.601 video range
    assert yuyv[0] == 235 and yuyv[1] == 128  # Y U Y V


def test_padded_rows_and_big_endian():
    rgb = _rgb(8, 10)
    msg = conv.rgb_to_image(rgb, 'rgb8')
    padded = np.zeros((8, 40), np.uint8)
    padded[:, :30] = rgb.reshape(8, 30)
    msg.step, msg.data = 40, padded.tobytes()
    assert np.array_equal(conv.image_to_rgb(msg), rgb)
    mono = (np.arange(80, dtype=np.uint16).reshape(8, 10) * 700)
    msg16 = conv.numpy_to_image(mono, 'mono16')
    msg16.is_bigendian = 1
    msg16.data = mono.astype('>u2').tobytes()
    assert np.array_equal(conv.image_to_numpy(msg16)[:, :, 0], mono)


def test_bad_images_are_rejected_with_reasons():
    msg = conv.rgb_to_image(_rgb(), 'rgb8')
    msg.encoding = '32FC1'
    with pytest.raises(conv.ImageConversionError, match='unsupported image encoding'):
        conv.image_to_rgb(msg)
    msg = conv.rgb_to_image(_rgb(), 'rgb8')
    msg.data = bytes(msg.data)[:100]
    with pytest.raises(conv.ImageConversionError, match='truncated'):
        conv.image_to_rgb(msg)
    msg = conv.rgb_to_image(_rgb(), 'rgb8')
    msg.height = 0
    with pytest.raises(conv.ImageConversionError, match='zero size'):
        conv.image_to_rgb(msg)
    msg = conv.rgb_to_image(_rgb(), 'rgb8')
    msg.step = 10
    with pytest.raises(conv.ImageConversionError, match='step'):
        conv.image_to_rgb(msg)
    msg = conv.rgb_to_image(_rgb(8, 16), 'yuyv')
    msg.width = 15
    with pytest.raises(conv.ImageConversionError, match='even width'):
        conv.image_to_rgb(msg)


@pytest.mark.parametrize('encoding', conv.SUPPORTED_ENCODINGS)
@pytest.mark.parametrize('frame_id', ['', 'c', 'cam', 'camera_optical_frame'])
def test_serialized_image_reads_like_the_deserialized_message(encoding, frame_id):
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import Image

    channels, dtype = conv._LAYOUT[encoding]
    rng = np.random.default_rng(len(frame_id))
    arr = rng.integers(0, np.iinfo(dtype).max, (6, 8, channels)).astype(dtype)
    header = Header(frame_id=frame_id)
    header.stamp.sec, header.stamp.nanosec = -3 if frame_id else 1_700_000_000, 999_999_999
    msg = conv.numpy_to_image(arr, encoding, header)
    msg.is_bigendian = len(frame_id) % 2
    buf = serialize_message(msg)
    ref = deserialize_message(buf, Image)
    cdr = conv.image_from_cdr(buf)
    assert cdr.header == ref.header
    assert (cdr.height, cdr.width, cdr.encoding, cdr.is_bigendian, cdr.step) == (
        ref.height, ref.width, ref.encoding, ref.is_bigendian, ref.step)
    assert bytes(cdr.data) == bytes(ref.data)
    assert np.array_equal(conv.image_to_rgb(cdr), conv.image_to_rgb(ref))


def test_big_endian_cdr_image():
    import struct

    def string(text, pos):
        raw = text.encode() + b'\x00'
        pad = b'\x00' * ((4 - pos % 4) % 4)
        return pad + struct.pack('>I', len(raw)) + raw

    rgb = np.arange(18, dtype=np.uint8).reshape(2, 3, 3)
    body = struct.pack('>iI', 12, 34)
    body += string('cam', len(body))
    body += b'\x00' * ((4 - len(body) % 4) % 4) + struct.pack('>II', 2, 3)
    body += string('rgb8', len(body))
    body += b'\x00'  # is_bigendian
    body += b'\x00' * ((4 - len(body) % 4) % 4) + struct.pack('>I', 9)
    body += b'\x00' * ((4 - len(body) % 4) % 4) + struct.pack('>I', 18) + rgb.tobytes()
    cdr = conv.image_from_cdr(b'\x00\x00\x00\x00' + body)
    stamp = cdr.header.stamp
    assert (stamp.sec, stamp.nanosec, cdr.header.frame_id) == (12, 34, 'cam')
    assert np.array_equal(conv.image_to_rgb(cdr), rgb)


def test_serialized_image_errors():
    from rclpy.serialization import serialize_message

    buf = serialize_message(conv.rgb_to_image(_rgb(), 'rgb8'))
    with pytest.raises(conv.ImageConversionError, match='truncated'):
        conv.image_from_cdr(buf[:len(buf) - 5])
    with pytest.raises(conv.ImageConversionError, match='truncated'):
        conv.image_from_cdr(buf[:10])
    with pytest.raises(conv.ImageConversionError, match='plain CDR'):
        conv.image_from_cdr(b'\x00\x07\x00\x00' + buf[4:])
    with pytest.raises(conv.ImageConversionError, match='plain CDR'):
        conv.image_from_cdr(b'')


def test_detection_round_trip():
    header = Header(frame_id='cam')
    header.stamp.sec, header.stamp.nanosec = 12, 345
    result = TrackResult(Box(10.5, 20.25, 30.0, 40.0), 0.75)
    det = conv.result_to_detection(result, header, 'abc', 'person')
    assert det.id == 'abc' and det.results[0].hypothesis.class_id == 'person'
    assert det.results[0].hypothesis.score == pytest.approx(0.75)
    assert det.header.stamp.nanosec == 345
    assert conv.detection_to_box(det) == result.box
    arr = conv.detection_array(header, [det])
    assert arr.header.frame_id == 'cam' and len(arr.detections) == 1
    assert conv.stamp_to_ns(header.stamp) == 12_000_000_345


def test_mask_image():
    mask = np.zeros((6, 8), bool)
    mask[2:4, 3:5] = True
    msg = conv.mask_to_image(mask, Header())
    assert msg.encoding == 'mono8'
    assert set(np.unique(conv.image_to_numpy(msg))) == {0, 255}


def test_bearing():
    info = CameraInfo(width=640, height=480)
    info.k = [500.0, 0.0, 320.0, 0.0, 500.0, 240.0, 0.0, 0.0, 1.0]
    assert np.allclose(conv.bearing_from_pixel(320, 240, info), [0, 0, 1])
    ray = conv.bearing_from_pixel(820, 240, info)
    assert np.allclose(ray, np.array([1, 0, 1]) / np.sqrt(2))
    info.distortion_model, info.d = 'plumb_bob', [-0.2, 0.05, 0.0, 0.0, 0.0]
    distorted = conv.bearing_from_pixel(600, 400, info)
    assert abs(np.linalg.norm(distorted) - 1) < 1e-9
    assert not np.allclose(distorted, conv.bearing_from_pixel(600, 400, CameraInfo(k=info.k)))
    with pytest.raises(ValueError, match='intrinsics'):
        conv.bearing_from_pixel(1, 1, CameraInfo())
