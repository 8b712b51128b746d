# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Every source file carries the project's copyright and licence header.

ament_copyright is not published as a wheel, so this is our own check of the same rule:
the first lines of every Python file and launch file name the copyright holder and the
Apache-2.0 licence (SPDX identifier).
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADER = ('# Copyright 20', ' The meta_tracker_ros Authors',
          '# SPDX-License-Identifier: Apache-2.0')


def _sources():
    for top in ('meta_tracker_ros', 'test', 'training', 'launch', 'benchmarks', 'scripts'):
        yield from sorted((ROOT / top).rglob('*.py')) if (ROOT / top).exists() else ()
    yield ROOT / 'setup.py'


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright():
    bad = []
    for path in _sources():
        lines = path.read_text().splitlines()[:4]
        start = 1 if lines and lines[0].startswith('#!') else 0
        head = lines[start:start + 2]
        if len(head) < 2 or not (head[0].startswith(HEADER[0]) and head[0].endswith(HEADER[1])
                                 and head[1] == HEADER[2]):
            bad.append(str(path.relative_to(ROOT)))
    assert not bad, 'files without the copyright/licence header:\n' + '\n'.join(bad)


def test_copyright_check_can_fail(tmp_path):
    f = tmp_path / 'x.py'
    f.write_text('"""No header."""\n')
    lines = f.read_text().splitlines()
    assert not lines[0].startswith(HEADER[0])
