"""kinko.cli.output: tables never cut a whole column, whatever the console width."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kinko.cli.common import console
from kinko.cli.output import Names, human_time, json_time, print_table
from kinko.core.ids import new_id

COLUMNS = ("id", "owner", "name", "permissions", "assets", "expires", "revoked", "last used")


def _rows(count: int) -> list[tuple[str, ...]]:
    return [
        (
            new_id("tok"),
            "alice",
            "backend service",
            "withdrawals:create withdrawals:read",
            "all",
            "2027-03-06 12:00Z",
            "no",
            "2026-12-01 10:00Z 10.0.0.1",
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("width", [40, 60, 80, 100, 140, 240])
def test_whole_columns_are_never_cut(
    width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(console, "width", width)
    rows = _rows(3)
    print_table(COLUMNS, rows, whole={"id"}, title="Tokens")
    out = capsys.readouterr().out
    assert "…" not in out
    for row in rows:
        assert row[0] in out  # on one line, as a later command takes it
    if width >= 140:  # room for a table: nothing wider than the console
        assert "┃" in out and max(len(line) for line in out.splitlines()) <= width
    else:  # records rather than an id cut to fit
        assert f"  id:          {rows[0][0]}" in out


def test_values_are_text_not_markup(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(console, "width", 120)
    print_table(("id", "reason"), [("frz_1", "[red]drain[/]")], whole={"id"})
    assert "[red]drain[/]" in capsys.readouterr().out


def test_names() -> None:
    names = Names({"usr_1": "ann"}, {"wal_1": "eth-hot"})
    assert names.user("usr_1") == names.user("user:usr_1") == "ann"
    assert names.user("token:tok_1") == "token:tok_1" and names.user(None) == "-"
    assert names.username("user:usr_1") == "ann" and names.username("usr_2") is None
    assert names.wallet("wal_1") == "eth-hot" and names.wallet("wal_2") == "wal_2"
    assert names.wallet_with_id("wal_1") == "eth-hot (wal_1)"
    assert names.ref("wal_1") == "eth-hot (wal_1)" and names.ref("user:usr_1") == "ann"


def test_times_are_utc() -> None:
    tokyo = datetime(2026, 11, 21, 18, 0, tzinfo=timezone(timedelta(hours=9)))
    assert json_time(tokyo) == "2026-11-21T09:00:00.000000Z"
    assert json_time(datetime(2026, 11, 21, 9, 0)) == "2026-11-21T09:00:00.000000Z"
    assert json_time(None) is None
    assert human_time(datetime(2026, 11, 21, 9, 0, 59, tzinfo=UTC)) == "2026-11-21 09:00Z"
