"""Reading a statement's file (kinko.custody.statement_files): hostile files stay bounded."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from kinko.core.errors import InputError
from kinko.custody.statement_files import open_rows

HUGE = 24 * 1024 * 1024


@pytest.mark.parametrize(
    ("head", "line"),
    [("account,asset,base_units\nacct-1,bitcoin:BTC,", 2), ('{"account": "acct-1", "asset": "', 1)],
)
def test_a_line_without_an_end_is_refused_before_it_fills_memory(
    tmp_path: Path, head: str, line: int
) -> None:
    path = tmp_path / "statement"
    path.write_bytes(head.encode() + b"7" * HUGE)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as caught, open_rows(path) as (_fmt, rows):
            list(rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < HUGE // 4, f"peak {peak} bytes reading a {HUGE}-byte line"
    assert caught.value.field == "file"
    assert f"statement line {line} is longer than" in caught.value.message
