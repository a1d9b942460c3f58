"""`kinko reserves build` from custody's liabilities statement at a time, on both databases:
the same trees as from the same ledger file, the statement recorded and audited, CUS-05."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kinko.context import Context
from kinko.core.errors import InputError, NotFound
from kinko.custody import holdings, statements
from kinko.reserves import snapshot
from kinko.reserves.ledger import parse_ledger_csv
from kinko.reserves.outcomes import outcomes
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.reserves import ReserveHoldingRow, ReserveRootRow, ReserveSnapshotRow
from tests.integration.custody.exchange import ACTOR, BTC, DAY, ETH, fund, set_up
from tests.support.cli import json_out, kinko, narrow_cli
from tests.support.identity import ensure_secret_key

LEDGER = [
    ("alice", BTC, 150_000_000),
    ("alice", ETH, 2 * 10**18),
    ("bob", BTC, 150_000_000),
    ("carol", BTC, 7),
]


def _custody(ctx: Context, tmp_path: Path) -> tuple[Path, statements.Statement]:
    """The custody exchange; the ledger's statement imported with a cut-off an hour ago
    (it sets custody's liabilities), then the day's custody snapshot."""
    ensure_secret_key(ctx)
    ids = set_up(ctx)
    fund(ctx, ids, btc_hot=10**8, btc_cold=4 * 10**8, eth_hot=10**18, eth_cold=2 * 10**18,
         eth_guarantee=0)  # fmt: skip
    ledger = tmp_path / "ledger.csv"
    rows = "".join(f"{a},{s},{u}\n" for a, s, u in LEDGER)
    ledger.write_text("account,asset,base_units\n" + rows)
    with ctx.db.transaction() as s:
        done = statements.import_statement(
            ctx, s, ledger, as_of=ctx.clock.now() - timedelta(hours=1), source="l", actor=ACTOR
        )
        holdings.take_snapshot(ctx, s, DAY, actor=ACTOR)
    return ledger, done


def _snapshot(ctx: Context, snapshot_id: str) -> tuple[ReserveSnapshotRow, dict, set, set]:
    with ctx.db.reading() as s:
        row = s.get(ReserveSnapshotRow, snapshot_id)
        assert row is not None
        entry = s.execute(select(AuditEntryRow).where(AuditEntryRow.seq == row.audit_seq))
        details = json.loads(entry.scalar_one().entry)["details"]
        roots = {
            (r.asset, r.height, int(r.total))
            for r in s.execute(
                select(ReserveRootRow).where(ReserveRootRow.snapshot_id == snapshot_id)
            ).scalars()
        }
        held = {
            (r.account, r.asset, int(r.base_units))
            for r in s.execute(
                select(ReserveHoldingRow).where(ReserveHoldingRow.snapshot_id == snapshot_id)
            ).scalars()
        }
        s.expunge(row)
    return row, details, roots, held


def test_a_build_from_custody_equals_the_build_from_the_same_ledger(
    ctx: Context, tmp_path: Path, services: Services
) -> None:
    ledger, done = _custody(ctx, tmp_path)
    by_custody = services.reserves.build_from_custody(at=ctx.clock.now(), actor=ACTOR)
    digest = hashlib.sha256(ledger.read_bytes()).digest()
    by_file = services.reserves.build(
        parse_ledger_csv(ledger.read_text()), day=DAY, actor=ACTOR, source_digest=digest
    )
    assert by_custody.day == DAY.isoformat()  # the UTC day of --at
    row, details, roots, held = _snapshot(ctx, by_custody.id)
    file_row, file_details, file_roots, file_held = _snapshot(ctx, by_file.id)
    assert roots == file_roots and held == file_held == set(LEDGER)
    # Same secret and nonce: the very same roots from custody's rows and the file's rows.
    secret, nonce = os.urandom(32), os.urandom(16)
    with ctx.db.reading() as s:
        kept = list(statements.balances(s, done.id))
    from_custody = snapshot.build(snapshot.Holdings.parse(kept), secret, nonce).roots()
    from_file = snapshot.build(
        snapshot.Holdings.parse(parse_ledger_csv(ledger.read_text())), secret, nonce
    ).roots()
    assert from_custody == from_file and from_custody.digest() == from_file.digest()
    # What each was built from is recorded on the snapshot and in its audit entry.
    assert (row.statement_id, row.source_digest) == (done.id, done.digest)
    assert details["statement"] == done.id
    assert details["statement_digest"] == done.digest.hex()
    assert (file_row.statement_id, file_row.source_digest) == (None, digest)
    assert file_details["ledger_digest"] == digest.hex()
    assert "statement" not in file_details
    assert by_custody.source is not None and by_custody.source.statement == done.id
    # CUS-05 (the self-inspection's full-reserve control) reads both snapshots.
    with ctx.db.reading() as s:
        seen = {o.id: o for o in outcomes(s, DAY, DAY)}
    assert set(seen) == {by_custody.id, by_file.id}
    assert seen[by_custody.id].audit_seq == by_custody.audit_seq


def test_a_build_needs_a_statement_at_or_before_its_time_and_matching_custody(
    ctx: Context, tmp_path: Path, services: Services
) -> None:
    _, done = _custody(ctx, tmp_path)
    with pytest.raises(NotFound, match="no liabilities statement at or before"):
        services.reserves.build_from_custody(at=done.as_of - timedelta(seconds=1), actor=ACTOR)
    # A newer statement whose totals the day's custody snapshot does not hold is refused.
    newer = tmp_path / "newer.csv"
    newer.write_text(f"account,asset,base_units\nalice,{BTC},1\n")
    with ctx.db.transaction() as s:
        again = statements.import_statement(
            ctx, s, newer, as_of=ctx.clock.now(), source="n", actor=ACTOR
        )
    with pytest.raises(InputError, match=f"statement {again.id}'s {BTC} balances") as caught:
        services.reserves.build_from_custody(at=ctx.clock.now(), actor=ACTOR)
    assert caught.value.field == "at"
    built = services.reserves.build_from_custody(at=again.as_of - timedelta(seconds=1), actor=ACTOR)
    assert built.source is not None and built.source.statement == done.id


def test_the_command_line_builds_from_custody_by_default(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, done = _custody(ctx, tmp_path)
    cli: CliRunner = narrow_cli(ctx, monkeypatch)
    result = kinko(cli, "reserves", "build", "--day", str(DAY), "--json")  # --at: now
    assert result.exit_code == 1, result.output  # nothing proven: short, but recorded
    report = json_out(result)
    assert report["source"] == {"statement": done.id, "digest": done.digest.hex()}
    assert [a["liabilities"] for a in report["assets"]] == ["300000007", str(2 * 10**18)]
    result = kinko(cli, "reserves", "build", "--at", done.to_json()["as_of"], "--day", str(DAY))
    assert result.exit_code == 1 and f"built from custody's statement {done.id}" in result.output
    for args, field in (
        (("--at", "yesterday"), "at"),
        (("--at", done.to_json()["as_of"], "--ledger", str(ledger)), "at"),
        (("--ledger", str(ledger)), "day"),
    ):
        result = kinko(cli, "reserves", "build", *args, "--json")
        assert result.exit_code == 2, result.output
        assert json_out(result)["field"] == field
    result = kinko(cli, "reserves", "build", "--ledger", str(ledger), "--day", str(DAY), "--json")
    assert result.exit_code == 1, result.output
    digest = hashlib.sha256(ledger.read_bytes()).hexdigest()
    assert json_out(result)["source"] == {"statement": None, "digest": digest}
