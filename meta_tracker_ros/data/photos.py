# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The photo pool: real photographs found on the machine without a download, split by file.

Sources (a curated allow list of real photographs; logos, drawings, renders, paintings,
calibration chessboards, text pages and plots are left out):

    skimage     scikit-image's bundled skimage.data images          (requirements.txt)
    mpl         matplotlib's sample_data/grace_hopper.jpg           (requirements.txt)
    sklearn     scikit-learn's sample images china.jpg, flower.jpg  (make setup-training)
    opencv-doc  Debian's opencv-doc: photos under examples/data and frames of its real
                videos vtest.avi, tree.avi, box.mp4.gz, cup.mp4.gz  (make setup-training)

Every photo has a stable id ('skimage:astronaut', 'mpl:grace_hopper.jpg',
'opencv-doc:fruits.jpg', 'opencv-doc:vtest.avi#260' for a video frame) and a split in
train/dev/test drawn from a salted sha256 of its group (roughly 60/15/25). The group is the
id itself, except that the frames of one video and the views of one scene (stereo pairs,
optical-flow pairs, an image and its edited copy) share one group, so near duplicates never
straddle two splits. The split depends on nothing but the group's name: installing another
source never moves a photo to another split.

The other packages of requirements.txt ship no further photographs (imageio's and scipy's
sample images, skimage.data's larger ones, need a download). Missing sources are skipped
when listing (missing() says what is absent and how to install it); photo suites call
require_all() before writing. load_photo(id) returns (H, W, 3) RGB uint8, read-only and
cached per process. cutout() cuts an object out of a photo: a compact image segment
(Felzenszwalb-Huttenlocher) refined by GrabCut, with a shape mask as the fallback.

    .venv/bin/python -c 'from meta_tracker_ros.data import photos; photos.main()'
                                                # the pool on this machine, per source and split
"""

from __future__ import annotations

from dataclasses import dataclass
import functools
import gzip
import hashlib
import importlib.util
from pathlib import Path
import shutil
import tempfile

import cv2
from meta_tracker_ros.data import images
import numpy as np

SPLITS = ('train', 'dev', 'test')
# Fixed forever: changing the salt or the shares moves photos between splits. Salt 7 of
# 'meta_tracker_ros/photo-split/1..8:' came closest to 60/15/25 on the 2026 pool.
_SALT = 'meta_tracker_ros/photo-split/7:'
_SHARES = (0.60, 0.75)  # cumulative: train below 0.60, dev below 0.75, test above
SKLEARN_PIN = 'scikit-learn==1.9.1 joblib==1.6.0 threadpoolctl==3.8.0'
SETUP_HINT = 'run `make setup-training` (scripts/setup_training.sh)'


class PhotoPoolError(ValueError):
    """A photo source or a photo a caller needs is not on this machine."""


@dataclass(frozen=True)
class Photo:
    """
    One photograph of the pool.

    photo_id: 'source:name' ('#frame' appended for a video frame); group: the unit its split
    is drawn for; path: the file; frame: the video frame index, None for a still image.
    """

    photo_id: str
    group: str
    path: Path
    frame: int | None = None

    @property
    def source(self) -> str:
        """Return the source's name: skimage, mpl, sklearn or opencv-doc."""
        return self.photo_id.split(':', 1)[0]

    @property
    def split(self) -> str:
        """'train', 'dev' or 'test' (see split_of)."""
        return split_of(self.group)


@dataclass(frozen=True)
class _Source:
    """
    A source: where its files live and which of them are photographs.

    where: an absolute folder, or the Python package whose folder holds `sub`;
    stills: (name in the id, path below the folder, group name or '' for the id itself);
    videos: (name in the id, path below the folder, frame indices), a group per video.
    """

    name: str
    install: str
    where: str
    sub: str
    stills: tuple[tuple[str, str, str], ...]
    videos: tuple[tuple[str, str, tuple[int, ...]], ...] = ()

    def folder(self) -> Path | None:
        """Folder the paths are relative to, None when the source is not installed."""
        if self.where.startswith('/'):
            path = Path(self.where) / self.sub
        else:
            spec = importlib.util.find_spec(self.where)
            if spec is None or not spec.submodule_search_locations:
                return None
            path = Path(list(spec.submodule_search_locations)[0]) / self.sub
        return path if path.is_dir() else None

    def photos(self) -> list[Photo]:
        """List the photographs whose files exist (none when the source is missing)."""
        root = self.folder()
        if root is None:
            return []
        out = []
        for name, rel, group in self.stills:
            if (root / rel).is_file():
                out.append(Photo(f'{self.name}:{name}', f'{self.name}:{group or name}',
                                 root / rel))
        for name, rel, frames in self.videos:
            if (root / rel).is_file():
                out += [Photo(f'{self.name}:{name}#{i}', f'{self.name}:{name}', root / rel, i)
                        for i in frames]
        return out

    def absent(self) -> list[str]:
        """Catalogued files of this source that are not on the machine."""
        root = self.folder()
        rels = [rel for _, rel, _ in self.stills] + [rel for _, rel, _ in self.videos]
        return rels if root is None else [r for r in rels if not (root / r).is_file()]


_EX = 'examples/data/'
SOURCES: tuple[_Source, ...] = (
    _Source('skimage', 'pip install scikit-image (in requirements.txt)', 'skimage', 'data', (
        ('astronaut', 'astronaut.png', ''), ('camera', 'camera.png', ''),
        ('chelsea', 'chelsea.png', ''), ('coffee', 'coffee.png', ''),
        ('rocket', 'rocket.jpg', ''), ('hubble_deep_field', 'hubble_deep_field.jpg', ''),
        ('immunohistochemistry', 'ihc.png', ''), ('retina', 'retina.jpg', ''),
        ('moon', 'moon.png', ''), ('brick', 'brick.png', ''), ('grass', 'grass.png', ''),
        ('gravel', 'gravel.png', ''), ('coins', 'coins.png', ''),
        ('clock', 'clock_motion.png', ''), ('text', 'text.png', ''),
        ('motorcycle_left', 'motorcycle_left.png', 'stereo_motorcycle'),
        ('motorcycle_right', 'motorcycle_right.png', 'stereo_motorcycle'))),
    _Source('mpl', 'pip install matplotlib (in requirements.txt)', 'matplotlib',
            'mpl-data/sample_data', (('grace_hopper.jpg', 'grace_hopper.jpg', ''),)),
    _Source('sklearn', f'.venv/bin/pip install {SKLEARN_PIN}', 'sklearn', 'datasets/images', (
        ('china.jpg', 'china.jpg', ''), ('flower.jpg', 'flower.jpg', ''))),
    _Source('opencv-doc', 'apt-get install opencv-doc', '/usr/share/doc/opencv-doc', '', tuple(
        (f, _EX + f, g) for f, g in (
            ('aero1.jpg', 'aero'), ('aero3.jpg', 'aero'), ('aloeL.jpg', 'aloe'),
            ('aloeR.jpg', 'aloe'), ('apple.jpg', ''), ('baboon.jpg', ''),
            ('basketball1.png', 'basketball'), ('basketball2.png', 'basketball'),
            ('board.jpg', ''), ('box.png', 'box'), ('box_in_scene.png', 'box'),
            ('building.jpg', ''), ('butterfly.jpg', ''), ('chicky_512.png', ''),
            ('ela_original.jpg', 'ela'), ('ela_modified.jpg', 'ela'), ('fruits.jpg', ''),
            ('graf1.png', 'graf'), ('graf3.png', 'graf'), ('home.jpg', ''),
            ('left.jpg', 'stereo-books'), ('right.jpg', 'stereo-books'),
            ('leuvenA.jpg', 'leuven'), ('leuvenB.jpg', 'leuven'),
            ('licenseplate_motion.jpg', ''), ('messi5.jpg', ''), ('orange.jpg', ''),
            ('rubberwhale1.png', 'rubberwhale'), ('rubberwhale2.png', 'rubberwhale'),
            ('squirrel_cls.jpg', ''), ('stuff.jpg', ''))),
        videos=(('vtest.avi', _EX + 'vtest.avi', (0, 260, 520, 780)),
                ('tree.avi', _EX + 'tree.avi', (0, 30, 60)),  # only 68 frames decode
                ('box.mp4', 'opencv4/html/box.mp4.gz', (0, 150, 300, 450)),
                ('cup.mp4', 'opencv4/html/cup.mp4.gz', (0, 70, 140, 210)))),
)


def split_of(group: str) -> str:
    """Split of a group (or id): a salted sha256 of its name mapped to [0, 1)."""
    u = int(hashlib.sha256((_SALT + group).encode()).hexdigest()[:8], 16) / 2.0 ** 32
    return SPLITS[0] if u < _SHARES[0] else SPLITS[1] if u < _SHARES[1] else SPLITS[2]


def list_photos(split: str | None = None, sources: tuple[str, ...] | None = None
                ) -> list[Photo]:
    """Photos on this machine, sorted by id; only of one split or some sources when given."""
    if split is not None and split not in SPLITS:
        raise ValueError(f'unknown photo split {split!r}; known: {", ".join(SPLITS)}')
    known = {s.name for s in SOURCES}
    if sources is not None and set(sources) - known:
        raise ValueError(f'unknown photo source(s) {sorted(set(sources) - known)}; known: '
                         f'{sorted(known)}')
    out = [p for s in SOURCES if sources is None or s.name in sources for p in s.photos()]
    return sorted((p for p in out if split is None or p.split == split),
                  key=lambda p: p.photo_id)


class SplitPool:
    """
    The photos of one split as a sequence draws them, recording every photo it reads.

    pick(rng) draws a group uniformly, then one of its photos, so a video's frames or a
    stereo pair weigh as much as one still; load(id) reads a photo and adds it to `used`.
    """

    def __init__(self, split: str) -> None:
        groups: dict[str, list[str]] = {}
        for p in list_photos(split):
            groups.setdefault(p.group, []).append(p.photo_id)
        if not groups:
            raise PhotoPoolError(f'no photo of the {split!r} split is on this machine; '
                                 f'{SETUP_HINT}')
        self.split = split
        self.groups = tuple(tuple(ids) for _, ids in sorted(groups.items()))
        self.used: set[str] = set()

    def pick(self, rng: np.random.Generator) -> str:
        """Id of a photo drawn from the split."""
        group = self.groups[int(rng.integers(len(self.groups)))]
        return group[int(rng.integers(len(group)))]

    def load(self, photo_id: str) -> np.ndarray:
        """Pixels of a photo of the split (load_photo), recorded in `used`."""
        if not any(photo_id in g for g in self.groups):
            raise PhotoPoolError(f'{photo_id!r} is not a photo of the {self.split!r} split')
        self.used.add(photo_id)
        return load_photo(photo_id)


def missing() -> list[str]:
    """Say what the full pool lacks here, one line per source, with how to install it."""
    out = []
    for s in SOURCES:
        absent = s.absent()
        if not absent:
            continue
        if s.folder() is None:
            out.append(f'{s.name}: not installed ({s.install})')
        else:
            out.append(f'{s.name}: {len(absent)} file(s) absent ({", ".join(absent)}); '
                       f'reinstall it ({s.install})')
    return out


def require_all(what: str) -> None:
    """Raise PhotoPoolError naming the install commands unless every source is complete."""
    lack = missing()
    if lack:
        raise PhotoPoolError(f'{what} needs the whole photo pool, and this machine lacks: '
                             f'{"; ".join(lack)}. {SETUP_HINT[0].upper()}{SETUP_HINT[1:]}.')


def _photo(photo_id: str) -> Photo:
    for p in list_photos():
        if p.photo_id == photo_id:
            return p
    raise PhotoPoolError(f'photo {photo_id!r} is not on this machine '
                         f'({"; ".join(missing()) or "unknown id"})')


def _rgb(bgr: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=None)
def _video_frames(path: Path, frames: tuple[int, ...]) -> dict[int, np.ndarray]:
    """Decode frames of a video (gunzipped to a temporary file first) by reading in order."""
    with tempfile.TemporaryDirectory() as tmp:
        if path.suffix == '.gz':
            plain = Path(tmp) / path.stem
            with gzip.open(path, 'rb') as src, open(plain, 'wb') as dst:
                shutil.copyfileobj(src, dst)
            path = plain
        cap = cv2.VideoCapture(str(path))
        out: dict[int, np.ndarray] = {}
        i = 0
        while len(out) < len(frames):
            ok, bgr = cap.read()
            if not ok:
                break
            if i in frames:
                out[i] = _rgb(bgr)
            i += 1
        cap.release()
    return out


@functools.lru_cache(maxsize=None)
def load_photo(photo_id: str) -> np.ndarray:
    """(H, W, 3) RGB uint8 pixels of a photo (read-only, cached per process)."""
    p = _photo(photo_id)
    if p.frame is None:
        bgr = cv2.imread(str(p.path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise PhotoPoolError(f'{p.path}: cannot read {photo_id}')
        return _rgb(bgr)
    frames = tuple(q.frame for q in list_photos(sources=(p.source,)) if q.group == p.group)
    img = _video_frames(p.path, frames).get(p.frame)
    if img is None:
        raise PhotoPoolError(f'{p.path}: frame {p.frame} of {photo_id} does not decode')
    return img


@functools.lru_cache(maxsize=None)
def photo_sha256(photo_id: str) -> str:
    """sha256 of a photo's pixels as the generator sees them (shape, then RGB bytes)."""
    img = load_photo(photo_id)
    return hashlib.sha256(repr(img.shape).encode() + img.tobytes()).hexdigest()


@functools.lru_cache(maxsize=None)
def pool_digest(split: str) -> str:
    """Short digest of the ids and pixels of a split's photos on this machine."""
    h = hashlib.sha256()
    for p in list_photos(split):
        h.update(f'{p.photo_id} {photo_sha256(p.photo_id)}\n'.encode())
    return h.hexdigest()[:16]


# Object proposals: Felzenszwalb-Huttenlocher segments (at _SEG_SCALES) of the photo
# downscaled to _SEG_SIDE whose area is a _SEG_AREA share of it, compact (area / convex
# hull area at least _SOLIDITY) and clear of the photo's border. GrabCut (_GRABCUT_ITERS
# iterations, on the full-resolution region downscaled to _GRABCUT_SIDE) refines a proposal
# inside its box grown by _GROW per side, with the same growth again as sure background;
# its object is kept when it is compact, fills a _FILL share of that box and barely touches
# the photo's border.
_SEG_SIDE = 200
_SEG_SCALES = (100.0, 300.0, 1000.0)
_SEG_AREA = (0.005, 0.35)
_SOLIDITY = 0.75
_GROW = 0.2
_GRABCUT_SIDE = 160
_GRABCUT_ITERS = 3
_FILL = (0.2, 0.85)
_BORDER = 0.1  # at most this share of the object's outline on the photo's border


def _compact(fg: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Fill the largest outer contour of a 0/1 mask (0/1) and give its length, if compact."""
    contours, _ = cv2.findContours(fg, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    best = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(best)
    if area < 4 or area < _SOLIDITY * cv2.contourArea(cv2.convexHull(best)):
        return None
    out = np.zeros_like(fg)
    cv2.drawContours(out, [best], -1, 1, cv2.FILLED)
    return out, cv2.arcLength(best, True)


def _proposals(small: np.ndarray) -> list[np.ndarray]:
    """Compact segments (0/1 masks) of a downscaled photo, clear of its border."""
    from skimage.segmentation import felzenszwalb

    h, w = small.shape[:2]
    out = []
    for scale in _SEG_SCALES:
        seg = felzenszwalb(small, scale=scale, sigma=0.8,
                           min_size=max(4, int(_SEG_AREA[0] * h * w)))
        area = np.bincount(seg.ravel())
        edge = np.unique(np.concatenate([seg[0], seg[-1], seg[:, 0], seg[:, -1]]))
        keep = (area >= _SEG_AREA[0] * h * w) & (area <= _SEG_AREA[1] * h * w)
        keep[edge] = False
        for k in np.flatnonzero(keep):
            found = _compact((seg == k).astype(np.uint8))
            if found is not None:
                out.append(found[0])
    return out


def _grabcut(rng: np.random.Generator, img: np.ndarray, proposal: np.ndarray
             ) -> tuple[np.ndarray, float, float, int, int] | None:
    """
    Refine a proposal with GrabCut; None when it gives no compact object.

    Returns (mask 0/1, rx, ry, x0, y0): mask pixel (i, j) covers the photo from
    (x0 + j / rx, y0 + i / ry).
    """
    ih, iw = img.shape[:2]
    ph, pw = proposal.shape
    s = (iw / pw, ih / ph)
    x, y, bw, bh = cv2.boundingRect(proposal)
    box = np.array([x * s[0], y * s[1], (x + bw) * s[0], (y + bh) * s[1]])
    grow = _GROW * (box[2:] - box[:2])
    limit = np.array([iw, ih, iw, ih])
    rect = np.clip(np.round(box + np.concatenate([-grow, grow])), 0, limit).astype(int)
    ctx = np.clip(np.round(box + 2 * np.concatenate([-grow, grow])), 0, limit).astype(int)
    crop = img[ctx[1]:ctx[3], ctx[0]:ctx[2]]
    r = min(1.0, _GRABCUT_SIDE / max(crop.shape[:2]))
    cw, ch = max(8, int(round(crop.shape[1] * r))), max(8, int(round(crop.shape[0] * r)))
    small = cv2.resize(np.ascontiguousarray(crop), (cw, ch), interpolation=cv2.INTER_AREA)
    rx, ry = cw / crop.shape[1], ch / crop.shape[0]

    def to_crop(v: np.ndarray) -> np.ndarray:
        return np.round((v - ctx[[0, 1, 0, 1]]) * [rx, ry, rx, ry]).astype(int)

    gc = np.full((ch, cw), cv2.GC_BGD, np.uint8)
    r0 = to_crop(rect)
    gc[r0[1]:r0[3], r0[0]:r0[2]] = cv2.GC_PR_BGD
    b0 = to_crop(box)
    bw_c, bh_c = max(1, b0[2] - b0[0]), max(1, b0[3] - b0[1])
    seed = cv2.resize(proposal[y:y + bh, x:x + bw], (bw_c, bh_c),
                      interpolation=cv2.INTER_NEAREST)
    region = gc[b0[1]:b0[1] + bh_c, b0[0]:b0[0] + bw_c]
    region[seed[:region.shape[0], :region.shape[1]] > 0] = cv2.GC_PR_FGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # GrabCut seeds its k-means from OpenCV's global generator: seed it from ours
    cv2.setRNGSeed(int(rng.integers(2 ** 31)))
    cv2.grabCut(small, gc, None, bgd, fgd, _GRABCUT_ITERS, cv2.GC_INIT_WITH_MASK)
    found = _compact(((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)).astype(np.uint8))
    if found is None:
        return None
    obj, outline = found
    fill = np.count_nonzero(obj) / float(max(1, (r0[2] - r0[0]) * (r0[3] - r0[1])))
    border = (np.count_nonzero(obj[0]) + np.count_nonzero(obj[-1])
              + np.count_nonzero(obj[:, 0]) + np.count_nonzero(obj[:, -1]))
    if not _FILL[0] <= fill <= _FILL[1] or border > _BORDER * outline:
        return None
    return obj, rx, ry, int(ctx[0]), int(ctx[1])


def _region(img: np.ndarray, x0: int, y0: int, w: int, h: int, border: int) -> np.ndarray:
    """img[y0:y0 + h, x0:x0 + w], padded where it leaves the image (cv2 border mode)."""
    ih, iw = img.shape[:2]
    pad = max(0, -x0, -y0, x0 + w - iw, y0 + h - ih)
    if pad:
        img = cv2.copyMakeBorder(np.ascontiguousarray(img), pad, pad, pad, pad, border,
                                 value=0)
    return np.ascontiguousarray(img[y0 + pad:y0 + pad + h, x0 + pad:x0 + pad + w])


def cutout(rng: np.random.Generator, img: np.ndarray, width: int, height: int,
           tries: int = 4) -> tuple[np.ndarray, np.ndarray, str]:
    """
    Cut an object out of a photo: (rgb (height, width, 3) uint8, mask 0/255, how).

    Up to `tries` object proposals of the photo (compact segments, in random order) are
    refined by GrabCut until one gives a compact object. It is centred in a box of the
    requested aspect, so it is not stretched: it spans the output's width or height, and
    the mask is binary and exact for the output pixels. Without one, the fallback is a
    random shape mask over a random patch of the photo. how is 'grabcut' or
    'shape:<kind>'. Deterministic for a given rng state.
    """
    ih, iw = img.shape[:2]
    s = min(1.0, _SEG_SIDE / max(ih, iw))
    small = cv2.resize(img, (max(8, int(round(iw * s))), max(8, int(round(ih * s)))),
                       interpolation=cv2.INTER_AREA)
    aspect = width / height
    props = _proposals(small)
    for k in rng.permutation(len(props))[:tries]:
        found = _grabcut(rng, img, props[int(k)])
        if found is None:
            continue
        obj, rx, ry, cx0, cy0 = found
        x, y, bw, bh = cv2.boundingRect(obj)
        # the object's box grown to the output aspect (photo pixels), centred on it
        fw, fh = bw / rx, bh / ry
        nw, nh = max(fw, fh * aspect), max(fh, fw / aspect)
        cx, cy = cx0 + (x + bw / 2) / rx, cy0 + (y + bh / 2) / ry
        fx0, fy0 = int(round(cx - nw / 2)), int(round(cy - nh / 2))
        fw, fh = max(1, int(round(nw))), max(1, int(round(nh)))
        rgb = _region(img, fx0, fy0, fw, fh, cv2.BORDER_REPLICATE)
        interp = cv2.INTER_AREA if fw > width else cv2.INTER_LINEAR
        rgb = cv2.resize(rgb, (width, height), interpolation=interp)
        # the mask into the same output: its pixel j spans the photo's [x0 + j / rx,
        # x0 + (j + 1) / rx), the output's pixel i its [fx0 + i * fw / width, ...)
        a, b = width / (fw * rx), height / (fh * ry)
        m = np.array([[a, 0.0, 0.5 * a - 0.5 + (cx0 - fx0) * width / fw],
                      [0.0, b, 0.5 * b - 0.5 + (cy0 - fy0) * height / fh]])
        alpha = cv2.warpAffine(obj * 255, m, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        alpha = np.where(alpha >= 128, 255, 0).astype(np.uint8)
        if np.count_nonzero(alpha) >= 0.1 * width * height:
            return rgb, alpha, 'grabcut'
    cw = min(iw, max(2, int(round(min(iw, ih * aspect) * rng.uniform(0.3, 0.8)))))
    ch = min(ih, max(2, int(round(cw / aspect))))
    x0, y0 = int(rng.integers(0, iw - cw + 1)), int(rng.integers(0, ih - ch + 1))
    crop = np.ascontiguousarray(img[y0:y0 + ch, x0:x0 + cw])
    interp = cv2.INTER_AREA if cw > width else cv2.INTER_LINEAR
    rgb = cv2.resize(crop, (width, height), interpolation=interp)
    alpha, kind = images.shape_mask(rng, width, height)
    return rgb, alpha, f'shape:{kind}'


def main() -> int:
    """Print the pool on this machine per source and split and what is missing; 1 if any."""
    pool = list_photos()
    print(f'{"source":12s} ' + ' '.join(f'{s:>6s}' for s in SPLITS + ('all',)))
    for src in SOURCES:
        ps = [p for p in pool if p.source == src.name]
        counts = [sum(p.split == s for p in ps) for s in SPLITS] + [len(ps)]
        print(f'{src.name:12s} ' + ' '.join(f'{c:6d}' for c in counts))
    print(f'{"all":12s} ' + ' '.join(f'{sum(p.split == s for p in pool):6d}' for s in SPLITS)
          + f' {len(pool):6d}')
    lack = missing()
    for line in lack:
        print(f'missing: {line}')
    return 1 if lack else 0
