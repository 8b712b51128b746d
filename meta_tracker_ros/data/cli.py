# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
meta-tracker-gen: write synthetic suites or single sequences, or preview them.

  meta-tracker-gen --list
  meta-tracker-gen --suite synth-test [--root DIR] [--jobs N]
  meta-tracker-gen --suite synth-test --entries 50 150 --out DIR [--jobs N]
                   (more sequences of the suite's distribution, beyond the 50 it holds)
  meta-tracker-gen --suite synth-dev --index 3 --preview dev3.mp4      (no suite written)
  meta-tracker-gen --seed 7 --frames 300 [--difficulty 0.7] [--width 640 --height 480]
                   --out DIR [--name NAME] [--force]
  meta-tracker-gen --seed 7 --frames 300 --preview sheet.png           (contact sheet)

A preview ending in .mp4 or .avi is an annotated video, anything else a contact sheet.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
import time

from meta_tracker_ros.data.generator import SyntheticSequence
from meta_tracker_ros.data.preview import write_preview
from meta_tracker_ros.data.spec import SequenceSpec, spec_help, SpecError
from meta_tracker_ros.data.suites import (data_root, ensure_suite, get_suite, suite_path, SUITES,
                                          write_entries)
from meta_tracker_ros.data.writer import read_meta, write_list, write_sequence


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog='meta-tracker-gen', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument('--suite', help=f'a named suite: {", ".join(SUITES)}')
    what.add_argument('--seed', type=int, help='one sequence from this seed')
    what.add_argument('--list', action='store_true',
                      help='list the suites and the spec fields, and exit')
    p.add_argument('--root', type=Path,
                   help=f'suite folder (default {data_root()}/<suite> or $META_TRACKER_DATA)')
    p.add_argument('--jobs', type=int, default=1, help='processes writing sequences')
    p.add_argument('--entries', type=int, nargs=2, metavar=('FIRST', 'STOP'),
                   help='with --suite and --out: write entries FIRST..STOP-1 of the suite '
                   '(same distribution and seed range) into --out')
    p.add_argument('--index', type=int, default=0, help='suite entry to --preview')
    p.add_argument('--frames', type=int, default=300, help='frames of a --seed sequence')
    p.add_argument('--difficulty', type=float, default=0.5,
                   help='difficulty level in [0, 1] of a --seed sequence')
    p.add_argument('--width', type=int, default=480, help='frame width of a --seed sequence')
    p.add_argument('--height', type=int, default=360, help='frame height of a --seed sequence')
    p.add_argument('--out', type=Path, help='folder to write a --seed sequence or --entries '
                   'into (<out>/<name>/..., and <out>/list.txt)')
    p.add_argument('--name', help='sequence name for --out (default seed-<seed>)')
    p.add_argument('--force', action='store_true', help='replace an existing --out sequence')
    p.add_argument('--preview', type=Path, help='write an annotated video (.mp4/.avi) or a '
                   'contact sheet (other extensions) instead of / besides writing')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    return p


def _list() -> None:
    for s in SUITES.values():
        n = s.count
        print(f'{s.name:12s} {n:4d} seqs x {s.frames[0]}-{s.frames[1]} frames, '
              f'{s.width}x{s.height}, difficulty {s.difficulty[0]}-{s.difficulty[1]}, '
              f'seeds {s.seed_range[0]}+  {s.description}')
        print(f'{"":12s} {suite_path(s.name)}')
    print('\nSequence spec ranges (SequenceSpec; a sequence draws each strength in its range):')
    default = SequenceSpec()
    for name, text in spec_help().items():
        lo, hi = getattr(default, name)
        print(f'  {name:22s} default [{lo:g}, {hi:g}]  {text}')


def _single(args: argparse.Namespace) -> None:
    spec = SequenceSpec.from_difficulty(args.difficulty, width=args.width, height=args.height)
    seq = SyntheticSequence(args.seed, args.frames, spec)
    if args.preview is not None:
        print(f'preview: {write_preview(seq, args.preview)}')
    if args.out is None:
        if args.preview is None:
            raise ValueError('--seed needs --out DIR (write the sequence) or --preview FILE')
        return
    name = args.name or f'seed-{args.seed}'
    t0 = time.perf_counter()
    folder = write_sequence(seq, args.out, name, overwrite=args.force,
                            extra_meta={'difficulty': args.difficulty})
    names = []
    list_path = args.out / 'list.txt'
    if list_path.is_file():
        names = [s.strip() for s in list_path.read_text().splitlines() if s.strip()]
    if name not in names:
        names.append(name)
    write_list(args.out, [n for n in names if read_meta(args.out / n) is not None])
    dt = time.perf_counter() - t0
    print(f'wrote {folder} ({args.frames} frames in {dt:.1f} s, {args.frames / dt:.0f} fps '
          f'with JPEG/PNG encoding)')


def _suite(args: argparse.Namespace) -> None:
    suite = get_suite(args.suite)
    if args.preview is not None:
        entry = suite.entry(args.index)
        print(f'{entry.name}: seed {entry.seed}, {entry.num_frames} frames, '
              f'difficulty {entry.difficulty:.2f}')
        print(f'preview: {write_preview(entry.sequence(), args.preview)}')
        return
    t0 = time.perf_counter()
    if args.entries is not None:
        if args.out is None:
            raise ValueError('--entries needs --out DIR')
        folder = write_entries(args.suite, *args.entries, args.out, jobs=args.jobs,
                               progress=not args.quiet)
        print(f'{args.suite} entries {args.entries[0]}..{args.entries[1] - 1}: {folder} '
              f'({time.perf_counter() - t0:.0f} s; evaluate with --dataset synthdir:{folder})')
        return
    folder = ensure_suite(args.suite, args.root, jobs=args.jobs, progress=not args.quiet)
    print(f'{args.suite}: {folder} ({time.perf_counter() - t0:.0f} s)')


def main(argv: list[str] | None = None) -> int:
    """Entry point of meta-tracker-gen; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.list:
            _list()
        elif args.suite is not None:
            _suite(args)
        else:
            _single(args)
    except (ValueError, KeyError, IndexError, OSError, SpecError) as exc:
        print(f'meta-tracker-gen: error: {exc}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
