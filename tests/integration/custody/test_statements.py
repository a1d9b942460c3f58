"""Customer liabilities statements on both databases: import, refusals, as-of selection."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, NotFound
from kinko.custody import holdings, statement_rows, statements
from kinko.custody.statements import Statement
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.liabilities import (
    LiabilityBalanceRow,
    LiabilityStatementRow,
    LiabilityTotalRow,
)
from tests.integration.custody.exchange import ACTOR, BTC, ETH, set_up

ROWS = [
    ("acct-1", BTC, 150_000_000),
    ("acct-1", ETH, 2 * 10**18),
    ("acct-2", BTC, 150_000_000),
    ("acct-3", BTC, 7),
    ("acct-4", ETH, 0),
]


def csv_file(path: Path, rows: list[tuple[str, str, int]] = ROWS) -> Path:
    path.write_text("account,asset,base_units\n" + "".join(f"{a},{s},{u}\n" for a, s, u in rows))
    return path


def jsonl_file(path: Path, rows: list[tuple[str, str, int]] = ROWS) -> Path:
    lines = (json.dumps({"account": a, "asset": s, "base_units": str(u)}) for a, s, u in rows)
    path.write_text("\n".join(lines) + "\n")
    return path


def imported(ctx: Context, path: Path, *, ago: timedelta = timedelta(hours=1)) -> Statement:
    with ctx.db.transaction() as s:
        return statements.import_statement(
            ctx, s, path, as_of=ctx.clock.now() - ago, source=path.name, actor=ACTOR
        )


def test_a_statement_is_kept_per_account_totalled_and_audited(ctx: Context, tmp_path: Path) -> None:
    set_up(ctx)
    path = csv_file(tmp_path / "ledger.csv")
    done = imported(ctx, path)
    assert done.format == "csv"
    assert (done.rows, done.holdings) == (5, 4)  # the zero row is read, not kept
    assert done.digest == hashlib.sha256(path.read_bytes()).digest()
    assert dict(done.totals) == {BTC: 300_000_007, ETH: 2 * 10**18}
    assert dict(done.holders) == {BTC: 3, ETH: 1}
    with ctx.db.reading() as s:
        kept = sorted(statements.balances(s, done.id))
        assert kept == sorted(r for r in ROWS if r[2])
        assert statements.account_balances(s, done.id, "acct-1") == {
            BTC: 150_000_000,
            ETH: 2 * 10**18,
        }
        entry = s.execute(
            select(AuditEntryRow).where(AuditEntryRow.seq == done.audit_seq)
        ).scalar_one()
        # The newest statement sets custody's current liabilities per asset.
        assert holdings.liabilities(s) == {BTC: 300_000_007, ETH: 2 * 10**18}
    assert (entry.action, entry.actor, entry.subject) == (
        "custody.liabilities.statement",
        ACTOR,
        done.id,
    )
    details = json.loads(entry.entry)["details"]
    assert details["digest"] == done.digest.hex()
    assert details["rows"] == 5
    assert details["totals"] == {BTC: "300000007", ETH: str(2 * 10**18)}
    assert details["as_of"] == done.to_json()["as_of"]


def test_json_lines_give_the_same_statement_as_csv(ctx: Context, tmp_path: Path) -> None:
    set_up(ctx)
    from_csv = imported(ctx, csv_file(tmp_path / "a.csv"), ago=timedelta(hours=2))
    from_json = imported(ctx, jsonl_file(tmp_path / "a.jsonl"))
    assert from_json.format == "jsonl"
    assert (from_json.totals, from_json.holdings) == (from_csv.totals, from_csv.holdings)
    with ctx.db.reading() as s:
        assert sorted(statements.balances(s, from_json.id)) == sorted(
            statements.balances(s, from_csv.id)
        )


def _counts(ctx: Context) -> tuple[int, ...]:
    with ctx.db.reading() as s:
        return tuple(
            s.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (
                LiabilityStatementRow,
                LiabilityTotalRow,
                LiabilityBalanceRow,
                AuditEntryRow,
            )
        )


HEAD = "account,asset,base_units\n"
MANY = "".join(f"acct-{i},{BTC},1\n" for i in range(statements.BATCH + 10))


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (HEAD + f"a,{BTC},-5\n", "statement line 2: base_units", "negative"),
        (HEAD + f"a,{BTC},1.5\n", "statement line 2: base_units", "not a whole number"),
        (HEAD + f"a,{BTC},1e8\n", "statement line 2: base_units", "not a whole number"),
        (HEAD + f"a,{BTC},{2**128}\n", "statement line 2: base_units", "below 2**128"),
        (HEAD + "a,bitcoin:DOGE,5\n", "statement line 2: asset", "unknown asset"),
        (HEAD + f"a,{BTC},5\nb,{BTC},1\na,{BTC},2\n", "statement line 4: account", "second time"),
        # The first batch is inserted before the repeat is read: the database's key finds it.
        (
            HEAD + MANY + f"acct-3,{BTC},9\n",
            f"statement line {statements.BATCH + 12}: account",
            "second time",
        ),
        (HEAD + f",{BTC},5\n", "statement line 2: account", "stable account id"),
        (HEAD + f"a,{BTC}\n", "statement line 2", "expected 3 columns"),
        ("account,asset,amount\na,bitcoin:BTC,5\n", "statement", "header"),
        ("", "file", "no rows"),
        (HEAD, "file", "no rows after its header"),
        (
            '{"account": "a", "asset": "bitcoin:BTC", "base_units": 1.5}\n',
            "statement line 1: base_units",
            "not a whole number",
        ),
        (
            '{"account": "a", "asset": "bitcoin:BTC", "base_units": "-1"}\n',
            "statement line 1: base_units",
            "negative",
        ),
        ('{"account": "a", "asset": "bitcoin:BTC"}\n', "statement line 1", "exactly"),
        ('[{"account": "a", "asset": "bitcoin:BTC", "base_units": "1"}]\n', "file", "JSON Lines"),
        (HEAD.encode("utf-16").decode("latin-1"), "file", "UTF-16"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    ctx: Context, tmp_path: Path, text: str, field: str, words: str
) -> None:
    set_up(ctx)
    before = _counts(ctx)
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("latin-1") if "\x00" in text else text.encode())
    with pytest.raises(InputError) as caught:
        imported(ctx, path)
    assert caught.value.field == field, caught.value.message
    assert words in caught.value.message
    assert _counts(ctx) == before
    with ctx.db.reading() as s:
        assert holdings.liabilities(s) == {}


def test_a_cut_off_in_the_future_or_without_a_zone_is_refused(ctx: Context, tmp_path: Path) -> None:
    set_up(ctx)
    path = csv_file(tmp_path / "ledger.csv")
    before = _counts(ctx)
    with pytest.raises(InputError, match="in the future") as caught:
        imported(ctx, path, ago=-timedelta(minutes=1))
    assert caught.value.field == "as_of"
    with pytest.raises(InputError, match="zone") as caught:
        statement_rows.parse_as_of("2026-12-07T00:00:00")
    assert caught.value.field == "as_of"
    assert _counts(ctx) == before


def test_the_same_file_for_the_same_cut_off_is_not_imported_twice(
    ctx: Context, tmp_path: Path
) -> None:
    set_up(ctx)
    path = csv_file(tmp_path / "ledger.csv")
    first = imported(ctx, path)
    with pytest.raises(Conflict, match=first.id):
        imported(ctx, path)


def test_liabilities_at_a_time_are_the_latest_statement_at_or_before_it(
    ctx: Context, tmp_path: Path
) -> None:
    set_up(ctx)
    now = ctx.clock.now()
    day2 = imported(ctx, csv_file(tmp_path / "2.csv", ROWS[:2]), ago=timedelta(days=2))
    day1 = imported(ctx, csv_file(tmp_path / "1.csv", ROWS[:3]), ago=timedelta(days=1))
    # Imported last, but its cut-off is older: it answers only for its own interval, and
    # custody's current liabilities stay the newest statement's.
    late = imported(ctx, csv_file(tmp_path / "l.csv", ROWS[:4]), ago=timedelta(hours=36))
    with ctx.db.reading() as s:
        assert holdings.liabilities(s) == dict(day1.totals)
        assert statements.statement_at(s, now).id == day1.id
        assert statements.statement_at(s, now - timedelta(days=1)).id == day1.id
        assert statements.statement_at(s, now - timedelta(hours=30)).id == late.id
        assert statements.statement_at(s, now - timedelta(hours=40)).id == day2.id
        with pytest.raises(NotFound, match="no liabilities statement at or before"):
            statements.statement_at(s, now - timedelta(days=3))
        assert [x.id for x in statements.list_statements(s)] == [day1.id, late.id, day2.id]
    # A correction for the same cut-off, imported later, wins for that cut-off.
    fixed = imported(ctx, csv_file(tmp_path / "1b.csv", ROWS[:1]), ago=timedelta(days=1))
    with ctx.db.reading() as s:
        assert statements.statement_at(s, now).id == fixed.id
        assert holdings.liabilities(s) == {BTC: 150_000_000, ETH: 0}


def test_a_sharp_fall_between_statements_alerts_the_security_team(
    ctx: Context, tmp_path: Path
) -> None:
    """One person imports liabilities; a statement owing much less of an asset than the
    one before it (an account left out: the omission that hides a shortfall) reaches the
    monitor, which alerts. A small change does not."""
    from kinko.core.events import SecurityEvent
    from tests.support.services import services_of

    set_up(ctx)
    services = services_of(ctx)
    services.start_monitor()
    seen: list[SecurityEvent] = []
    ctx.bus.subscribe(seen.append)
    imported(ctx, csv_file(tmp_path / "day1.csv"), ago=timedelta(hours=3))
    nudged = [(a, s, u - 1 if s == ETH and u else u) for a, s, u in ROWS]  # 1 wei less
    imported(ctx, csv_file(tmp_path / "day2.csv", nudged), ago=timedelta(hours=2))
    without_acct_2 = [r for r in ROWS if r[0] != "acct-2"]  # BTC: half of it gone
    third = imported(ctx, csv_file(tmp_path / "day3.csv", without_acct_2))

    told = [e for e in seen if e.type == "custody.liabilities_statement"]
    assert [e.fields["largest_drop_bp"] for e in told] == [0, 0, 4999]
    assert told[2].fields["largest_drop_asset"] == BTC
    assert told[2].fields["statement"] == third.id
    with ctx.db.transaction() as s:
        rules = [a.rule_id for a in services.triage.list_alerts(s)]
    assert rules.count("kinko-liabilities-dropped") == 1


def test_liabilities_walked_down_in_small_steps_still_alert(ctx: Context, tmp_path: Path) -> None:
    """One importer posts statements an hour apart, each owing 3% less BTC than the one
    before: no step is 5%, but the fall from the week's highest is, from the second step
    on."""
    from kinko.core.events import SecurityEvent

    set_up(ctx)
    seen: list[SecurityEvent] = []
    ctx.bus.subscribe(seen.append)
    units = 1_000_000
    for hours in (4, 3, 2, 1):
        rows = [("acct-1", BTC, units)]
        imported(ctx, csv_file(tmp_path / f"h{hours}.csv", rows), ago=timedelta(hours=hours))
        units = units * 97 // 100
    told = [e.fields["largest_drop_bp"] for e in seen if e.type == "custody.liabilities_statement"]
    assert told == [0, 300, 591, 873]
