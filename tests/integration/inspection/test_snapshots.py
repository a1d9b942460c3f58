"""Daily evidence snapshots (issue #16 point 2) on both databases: taken from the store,
stored with their digest in the audit log, once a day, back-filled from history, imported
only when they match their digest."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kinko.api.background import job_starter, jobs_under_lease, snapshot_loop
from kinko.context import Context, build_context
from kinko.core.clock import FixedClock
from kinko.core.errors import InputError, IntegrityError
from kinko.custody import holdings, keys
from kinko.custody.keys import KeyStatus, NewKeyShare
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.identity.service import IdentityService
from kinko.inspection import evidence
from kinko.inspection.snapshot import Origin, Snapshot
from kinko.inspection.snapshots import ACTION, SnapshotService
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.inspection import InspectionSnapshotRow
from tests.integration.custody.exchange import BTC, ETH, Wallets, fund, set_up
from tests.support.clock import RUN_STARTED
from tests.support.identity import make_user

ACTOR = "local:tester"
CEREMONY = {"performed_at": "at the ceremony", "witnesses": ["w1", "w2"], "procedure": "KP-1"}


def blocklist(path: Path) -> Path:
    """A Kinko CSV list of the exchange's own (no configured publisher to contradict)."""
    path.write_text(
        "list,entity_name,chain,address,source_ref,listed_on\n"
        "own-blocklist,Scammer,ethereum,0x00000000000000000000000000000000000000aa,r1,2024-05-01\n",
        encoding="utf-8",
    )
    return path


def digest_now(ctx: Context) -> str:
    with ctx.db.reading() as session:
        return evidence.current(session, ctx.clock.now()).digest


def add_share(ctx: Context, wallet: str, holder: str, device: str) -> str:
    share = NewKeyShare(wallet, holder, device, "tokyo-dc1", "Kinko KK", f"02{device}", CEREMONY)
    with ctx.db.transaction() as s:
        return keys.unsafe_register_share(ctx, s, share, actor=ACTOR)


def snapshot_entries(ctx: Context) -> list[dict[str, object]]:
    with ctx.db.reading() as s:
        rows = s.execute(
            select(AuditEntryRow).where(AuditEntryRow.action == ACTION).order_by(AuditEntryRow.seq)
        ).scalars()
        return [json.loads(r.entry) for r in rows]


@pytest.fixture
def snapshots(ctx: Context) -> SnapshotService:
    return SnapshotService(ctx)


@pytest.fixture
def exchange(ctx: Context) -> Wallets:
    ids = set_up(ctx)
    fund(
        ctx,
        ids,
        btc_hot=10**7,
        btc_cold=9 * 10**8,
        eth_hot=10**18,
        eth_cold=10**20,
        eth_guarantee=0,
    )
    return ids


def test_the_digest_is_stable_and_changes_with_every_kind_of_evidence(
    ctx: Context, services: Services, exchange: Wallets, tmp_path: Path, clock: FixedClock
) -> None:
    seen = [digest_now(ctx)]
    assert digest_now(ctx) == seen[0]  # nothing changed: the same digest

    def changed() -> None:
        digest = digest_now(ctx)
        assert digest not in seen
        seen.append(digest)

    with ctx.db.transaction() as s:  # a balance
        holdings.set_balance(ctx, s, exchange.btc_hot, BTC, 10**7 + 1, source="test", actor=ACTOR)
    changed()
    with ctx.db.transaction() as s:  # a liability
        holdings.set_liabilities(ctx, s, {BTC: 5 * 10**8}, source="ledger", actor=ACTOR)
    changed()
    with ctx.db.transaction() as s:  # a price
        day = ctx.clock.now().date()
        holdings.set_prices(ctx, s, day, "KRW", {ETH: "4000000"}, actor=ACTOR)
    changed()
    alice, _ = make_user(ctx, "alice", ["operator"], with_authenticator=False)  # a person
    changed()
    bob, _ = make_user(ctx, "bob", ["requester"])  # a person with a security key
    changed()
    share = add_share(ctx, exchange.btc_cold, alice, "hsm-1")  # a key share
    changed()
    with ctx.db.transaction() as s:  # its status
        keys.set_status(ctx, s, share, KeyStatus.REVOKED, reason="rotated", actor=ACTOR)
    changed()
    ids = IdentityService(ctx)
    with ctx.db.transaction() as s:  # a role grant
        ids.roles.unsafe_direct_grant(s, bob, RoleGrant(Role.AUDITOR), reason="test")
    changed()
    services.screening.load_file(blocklist(tmp_path / "own.csv"), actor=ACTOR)  # a list
    changed()
    clock.advance(timedelta(seconds=1))
    changed()  # the time it describes is evidence too


def test_taking_stores_the_snapshot_and_its_digest_goes_in_the_audit_log(
    ctx: Context, snapshots: SnapshotService, exchange: Wallets
) -> None:
    expected = digest_now(ctx)
    taken = snapshots.take(actor=ACTOR)
    assert taken.new
    record = taken.record
    assert record.digest == expected
    assert record.day == ctx.clock.now().date()
    assert record.origin == Origin.TAKEN.value
    [entry] = snapshot_entries(ctx)
    assert entry["sequence"] == record.audit_seq
    assert entry["subject"] == record.day.isoformat()
    assert entry["actor"] == ACTOR
    assert entry["details"]["digest"] == record.digest  # type: ignore[index]
    stored = snapshots.document(record.day)
    assert stored.digest == record.digest
    assert {b.wallet for b in stored.balances or ()} == {
        exchange.btc_hot,
        exchange.btc_cold,
        exchange.eth_hot,
        exchange.eth_cold,
        exchange.eth_guarantee,
    }
    assert [p.asset for p in stored.prices] == sorted([BTC, ETH])


def test_a_day_has_one_snapshot(
    ctx: Context, snapshots: SnapshotService, exchange: Wallets, clock: FixedClock
) -> None:
    # Noon of the run's own day: ten minutes later is the same UTC day whenever it runs.
    clock.set(clock.now().replace(hour=12, minute=0, second=0, microsecond=0))
    first = snapshots.take(actor=ACTOR)
    with ctx.db.transaction() as s:  # the evidence changes later that day
        holdings.set_balance(ctx, s, exchange.btc_hot, BTC, 1, source="test", actor=ACTOR)
    clock.advance(timedelta(minutes=10))
    again = snapshots.take(actor=ACTOR)
    assert not again.new
    assert again.record == first.record  # the day's first, unchanged
    assert len(snapshot_entries(ctx)) == 1
    clock.advance(timedelta(days=1))
    tomorrow = snapshots.take(actor=ACTOR)
    assert tomorrow.new
    assert tomorrow.record.day == first.record.day + timedelta(days=1)
    assert tomorrow.record.digest != first.record.digest
    assert [r.day for r in snapshots.list()] == [first.record.day, tomorrow.record.day]


def test_the_serve_loop_takes_it_once(
    ctx: Context, snapshots: SnapshotService, exchange: Wallets
) -> None:
    async def run() -> None:
        task = asyncio.create_task(snapshot_loop(snapshots.take_daily, 0.01))
        await asyncio.sleep(0.3)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())
    [record] = snapshots.list()
    assert record.recorded_by == "system:inspection"
    assert len(snapshot_entries(ctx)) == 1


def test_of_two_serve_processes_one_takes_it(ctx: Context, exchange: Wallets) -> None:
    """Two ``kinko serve`` processes' periodic jobs on one database (PostgreSQL: the jobs'
    lease lets one run them; SQLite: one process, the lease always held): one snapshot."""
    other = build_context(ctx.settings, clock=FixedClock(RUN_STARTED))

    async def run() -> None:
        runners = [
            asyncio.create_task(
                jobs_under_lease(
                    c, job_starter(c, take_snapshot=SnapshotService(c).take_daily), check_s=0.05
                )
            )
            for c in (ctx, other)
        ]
        await asyncio.sleep(0.5)
        for task in runners:
            task.cancel()
        await asyncio.gather(*runners, return_exceptions=True)

    try:
        asyncio.run(run())
    finally:
        other.db.dispose()
    assert len(SnapshotService(ctx).list()) == 1
    assert len(snapshot_entries(ctx)) == 1


def test_two_processes_taking_the_day_record_one(
    ctx: Context, snapshots: SnapshotService, exchange: Wallets
) -> None:
    others = [build_context(ctx.settings, clock=FixedClock(RUN_STARTED)) for _ in range(2)]
    results = []
    start = threading.Barrier(len(others))

    def take(other: Context) -> None:
        start.wait()
        results.append(SnapshotService(other).take(actor=ACTOR))

    threads = [threading.Thread(target=take, args=(o,)) for o in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for other in others:
        other.db.dispose()
    assert sorted(r.new for r in results) == [False, True]
    assert results[0].record.digest == results[1].record.digest
    with ctx.db.reading() as s:
        assert s.execute(select(func.count()).select_from(InspectionSnapshotRow)).scalar() == 1
    assert len(snapshot_entries(ctx)) == 1


def test_backfill_rebuilds_past_days_from_history(
    ctx: Context, snapshots: SnapshotService, clock: FixedClock
) -> None:
    clock.set(RUN_STARTED - timedelta(days=5))
    start = clock.now().date()
    ids = set_up(ctx)
    alice, _ = make_user(ctx, "alice", ["operator"], with_authenticator=False)
    fund(ctx, ids, btc_hot=1, btc_cold=2, eth_hot=3, eth_cold=4, eth_guarantee=5)
    with ctx.db.transaction() as s:
        holdings.take_snapshot(ctx, s, start, actor=ACTOR)  # the custody snapshot of day 0
    clock.advance(timedelta(days=2))
    share = add_share(ctx, ids.btc_cold, alice, "hsm-1")
    clock.advance(timedelta(days=1))
    with ctx.db.transaction() as s:
        keys.set_status(ctx, s, share, KeyStatus.REVOKED, reason="rotated", actor=ACTOR)
    clock.set(RUN_STARTED)
    snapshots.take(actor=ACTOR)  # today
    before = start - timedelta(days=1)

    filled = snapshots.backfill(before, start + timedelta(days=3), actor=ACTOR)

    assert [r.day for r in filled.recorded] == [start + timedelta(days=n) for n in range(4)]
    assert filled.skipped[0][0] == before  # before the audit log's first entry
    day0 = snapshots.document(start)
    assert day0.origin is Origin.BACKFILLED
    assert day0.balances is not None and len(day0.balances) == 5
    assert [p.username for p in day0.people] == ["alice"]
    assert day0.keys == ()  # the share came two days later
    day1 = snapshots.document(start + timedelta(days=1))
    assert day1.balances is None  # no custody snapshot that day: said, not invented
    assert any(g.startswith("balances") for g in day1.gaps)
    day2 = snapshots.document(start + timedelta(days=2))
    assert [(k.id, k.status) for k in day2.keys] == [(share, "active")]  # revoked later
    day3 = snapshots.document(start + timedelta(days=3))
    assert [k.status for k in day3.keys] == ["revoked"]
    assert len(snapshot_entries(ctx)) == 5  # today's and four back-filled
    again = snapshots.backfill(start, start + timedelta(days=3), actor=ACTOR)
    assert again.recorded == ()
    assert {why for _, why in again.skipped} == {"already has a snapshot"}
    with pytest.raises(InputError) as caught:
        snapshots.backfill(start, ctx.clock.now().date(), actor=ACTOR)
    assert caught.value.field == "--to"


def importable(*snaps: Snapshot) -> dict[str, object]:
    return {"snapshots": [{"digest": s.digest, "document": s.to_json()} for s in snaps]}


def past(ctx: Context, days: int) -> Snapshot:
    with ctx.db.reading() as s:
        return evidence.historical(s, ctx.clock.now().date() - timedelta(days=days))


def test_import_records_matching_snapshots_and_refuses_a_tampered_one(
    ctx: Context, snapshots: SnapshotService, exchange: Wallets
) -> None:
    first = past(ctx, 1)
    with ctx.db.reading() as s:
        second = evidence.current(s, ctx.clock.now())  # another Kinko's, say
    doc = importable(first, second)
    tampered = json.loads(json.dumps(doc))
    balance = tampered["snapshots"][1]["document"]["balances"][0]
    balance["base_units"] = str(int(balance["base_units"]) + 1)  # one unit more
    with pytest.raises(InputError) as caught:
        snapshots.import_documents(tampered, actor=ACTOR, source="evil.json")
    assert caught.value.field == "snapshots[1].digest"
    assert snapshots.list() == []  # nothing half-imported

    done = snapshots.import_documents(doc, actor=ACTOR, source="backup.json")
    assert [r.digest for r in done.recorded] == [first.digest, second.digest]
    assert {r.imported_from for r in done.recorded} == {"backup.json"}
    digests = [e["details"]["digest"] for e in snapshot_entries(ctx)]  # type: ignore[index]
    assert digests == [first.digest, second.digest]
    again = snapshots.import_documents(doc, actor=ACTOR, source="backup.json")
    assert again.recorded == () and len(again.skipped) == 2  # same digest: left as it is


def test_import_of_another_digest_for_a_held_day_is_an_integrity_error(
    ctx: Context, snapshots: SnapshotService, exchange: Wallets
) -> None:
    held = past(ctx, 1)
    snapshots.import_documents(importable(held), actor=ACTOR, source="a.json")
    other = replace(held, gaps=("balances: not held",))  # the same day, other evidence
    newer = past(ctx, 3)
    with pytest.raises(IntegrityError):
        snapshots.import_documents(importable(newer, other), actor=ACTOR, source="b")
    assert [r.day for r in snapshots.list()] == [other.day]  # `newer` not recorded
