"""Appending inside the caller's transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy.exc
from sqlalchemy import func, select

from kinko.audit import merkle
from kinko.audit.memtree import MemoryTree
from kinko.audit.service import MIN_STORED_HEIGHT, AuditItem
from kinko.audit.tiles import MAX_ENTRY_BYTES
from kinko.context import Context
from kinko.core.errors import InputError
from kinko.store.tables.audit import AuditEntryRow, AuditNodeRow
from kinko.store.tables.custody import AssetRow
from tests.integration.audit.conftest import fill
from tests.support.clock import RUN_STARTED, iso_z


def _entries(ctx: Context) -> list[bytes]:
    with ctx.db.transaction() as session:
        rows = session.execute(select(AuditEntryRow.entry).order_by(AuditEntryRow.seq))
        return [bytes(r[0]) for r in rows]


def test_entries_are_canonical_json_with_sequence_and_time(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        first = ctx.audit.append(
            session, actor="user:a", action="x.y", subject="w1", details={"b": 1, "a": "z"}
        )
        second = ctx.audit.append(session, actor="user:a", action="x.z", subject="w1")
    assert (first.seq, second.seq) == (0, 1)
    assert first.entry == (
        b'{"action":"x.y","actor":"user:a","details":{"a":"z","b":1},"sequence":0,'
        b'"subject":"w1","time":"' + iso_z(RUN_STARTED).encode() + b'"}'
    )
    assert json.loads(second.entry)["sequence"] == 1
    assert first.leaf_hash == merkle.leaf_hash(first.entry)


def test_stored_nodes_give_the_same_roots_and_proofs_as_the_reference_tree(
    ctx: Context,
) -> None:
    fill(ctx, 20)
    with ctx.db.transaction() as session:
        ctx.audit.append_many(
            session, [AuditItem("user:b", "test.batch", f"b{i}", {"i": i}) for i in range(80)]
        )
    reference = MemoryTree()
    reference.extend(_entries(ctx))
    assert reference.size == 100
    with ctx.db.transaction() as session:
        stored = session.execute(select(func.count()).select_from(AuditNodeRow)).scalar()
        assert stored == sum(len(level) for level in reference.levels[MIN_STORED_HEIGHT:])
        for size in (1, 2, 5, 16, 31, 32, 33, 64, 97, 100):
            assert ctx.audit.root(session, size) == reference.root(size)
            for index in range(size):
                proof = ctx.audit.inclusion_proof(session, index, size)
                assert proof == reference.inclusion_proof(index, size)
            for first in range(size + 1):
                assert ctx.audit.consistency_proof(session, first, size) == (
                    reference.consistency_proof(first, size)
                )


def test_proof_arguments_outside_the_log_are_input_errors(ctx: Context) -> None:
    fill(ctx, 3)
    with ctx.db.transaction() as session:
        with pytest.raises(InputError, match="size: 4 is outside"):
            ctx.audit.inclusion_proof(session, 0, 4)
        with pytest.raises(InputError, match="index: 3 is not below"):
            ctx.audit.inclusion_proof(session, 3, 3)
        with pytest.raises(InputError, match="first"):
            ctx.audit.consistency_proof(session, 3, 2)


def test_a_failed_audit_write_rolls_back_the_callers_change(ctx: Context) -> None:
    fill(ctx, 2)
    # Make the next audit insert fail in the database: a row already sits at sequence 2.
    with ctx.db.transaction() as session:
        session.add(
            AuditEntryRow(
                seq=2,
                time=ctx.clock.now(),
                actor="x",
                action="x",
                subject="x",
                entry=b"{}",
                leaf_hash=bytes(32),
            )
        )
    with pytest.raises(sqlalchemy.exc.IntegrityError), ctx.db.transaction() as session:
        session.add(AssetRow(id=7, chain="ethereum", symbol="ETH", decimals=18))
        session.flush()
        ctx.audit.append(session, actor="user:a", action="asset.add", subject="7")
    with ctx.db.transaction() as session:
        assert session.get(AssetRow, 7) is None
        assert ctx.audit.size(session) == 2


def test_a_refused_entry_rolls_back_the_batch_and_the_callers_change(ctx: Context) -> None:
    with pytest.raises(InputError, match=r"audit\.actor"), ctx.db.transaction() as session:
        session.add(AssetRow(id=8, chain="bitcoin", symbol="BTC", decimals=8))
        ctx.audit.append_many(
            session, [AuditItem("user:a", "ok.one", "s"), AuditItem("", "bad.one", "s")]
        )
    with ctx.db.transaction() as session:
        assert session.get(AssetRow, 8) is None
        assert ctx.audit.size(session) == 0


def _details_for(ctx: Context, total: int) -> dict[str, str]:
    """Details that make the canonical entry exactly `total` bytes long."""
    from kinko.audit.service import _encode
    from kinko.core.clock import isoformat

    base = len(
        _encode(AuditItem("user:a", "big.entry", "s", {"pad": ""}), 0, isoformat(ctx.clock.now()))
    )
    return {"pad": "p" * (total - base)}


def test_entry_size_cap_matches_the_16_bit_bundle_prefix(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        record = ctx.audit.append(
            session,
            actor="user:a",
            action="big.entry",
            subject="s",
            details=_details_for(ctx, MAX_ENTRY_BYTES),
        )
    assert len(record.entry) == 65535
    with (
        pytest.raises(InputError, match="65536 bytes; the limit is 65535"),
        ctx.db.transaction() as session,
    ):
        ctx.audit.append(
            session,
            actor="user:a",
            action="big.entry",
            subject="s",
            details=_details_for(ctx, MAX_ENTRY_BYTES + 1),
        )


def test_concurrent_appends_get_distinct_contiguous_sequences(ctx: Context) -> None:
    def worker(n: int) -> None:
        for i in range(8):
            with ctx.db.transaction() as session:
                ctx.audit.append(session, actor=f"user:{n}", action="t.c", subject=str(i))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = _entries(ctx)
    assert [json.loads(e)["sequence"] for e in entries] == list(range(32))
    reference = MemoryTree()
    reference.extend(entries)
    with ctx.db.transaction() as session:
        assert ctx.audit.root(session) == reference.root()
