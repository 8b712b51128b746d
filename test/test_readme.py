# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The README's promises that code can check: its two commands and its parameter table."""

from pathlib import Path
import re

from meta_tracker_ros.ros.params import NodeParams

ROOT = Path(__file__).resolve().parents[1]


def parameter_table() -> str:
    rows = ['| parameter | type | default | range | description |', '|---|---|---|---|---|']
    for f in NodeParams.fields():
        rng = f'{f.low:g}..{f.high:g}' if f.low is not None else ''
        if f.choices:
            rng = ', '.join(f.choices)
        rows.append(f'| `{f.name}` | {type(f.default).__name__} | `{f.default!r}` | {rng} | '
                    f'{f.description} |')
    return '\n'.join(rows)


def test_quick_start_is_the_two_commands():
    text = (ROOT / 'README.md').read_text()
    block = text.split('## Quick start', 1)[1].split('```', 2)[1]
    assert [line for line in block.splitlines() if line.strip()] == ['make demo', 'make test']
    assert 'make test' in (ROOT / '.ci' / 'run').read_text()


def test_parameter_table_matches_code():
    text = (ROOT / 'README.md').read_text()
    m = re.search(r'<!-- node-parameters:.*?-->\n(.*?)\n<!-- /node-parameters -->', text, re.S)
    assert m, 'parameter table markers missing'
    assert m.group(1).strip() == parameter_table(), 'README parameter table is out of date'
