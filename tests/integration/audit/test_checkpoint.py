"""Signed checkpoints from the database log."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from kinko.api.background import issue_checkpoint_if_grown
from kinko.audit import merkle
from kinko.audit.checkpoint import verify_checkpoint
from kinko.audit.note import generate_signer
from kinko.audit.verify import verify_directory
from kinko.context import Context
from kinko.core.errors import ConfigError, IntegrityError, Unavailable
from tests.integration.audit.conftest import fill


def test_checkpoints_are_signed_stored_and_consistent(ctx: Context, vkey: str) -> None:
    fill(ctx, 5)
    with ctx.db.transaction() as session:
        first = ctx.audit.checkpoint(session)
        again = ctx.audit.checkpoint(session)
    assert again == first
    cp5 = verify_checkpoint(first, vkey)
    assert (cp5.origin, cp5.size) == (ctx.settings.audit_origin, 5)
    fill(ctx, 6, start=5)
    with ctx.db.transaction() as session:
        second = ctx.audit.checkpoint(session)
        assert ctx.audit.latest_checkpoint(session) == second
        cp11 = verify_checkpoint(second, vkey)
        proof = ctx.audit.consistency_proof(session, 5, 11)
        assert cp11.root_hash == ctx.audit.root(session)
    merkle.verify_consistency(5, 11, proof, cp5.root_hash, cp11.root_hash)


def test_the_log_refuses_to_sign_a_tree_inconsistent_with_its_last_checkpoint(
    ctx: Context, vkey: str
) -> None:
    from sqlalchemy import select, update

    from kinko.store.tables.audit import AuditEntryRow, AuditHead

    fill(ctx, 4)
    with ctx.db.transaction() as session:
        ctx.audit.checkpoint(session)
    fill(ctx, 3, start=4)
    with ctx.db.transaction() as session:  # someone rewrites history in the store
        session.execute(
            update(AuditEntryRow).where(AuditEntryRow.seq == 1).values(leaf_hash=bytes(32))
        )
    with pytest.raises(IntegrityError, match="refusing to sign"), ctx.db.transaction() as s:
        ctx.audit.checkpoint(s)
    with ctx.db.transaction() as session:  # ... and rewrites the head to match that history
        leaves = list(
            session.execute(select(AuditEntryRow.leaf_hash).order_by(AuditEntryRow.seq)).scalars()
        )
        edge = merkle.compact_range(leaves)
        session.execute(update(AuditHead).values(edge=b"".join(edge)))
    with pytest.raises(IntegrityError, match="consistency proof"), ctx.db.transaction() as s:
        ctx.audit.checkpoint(s)
    with ctx.db.transaction() as session:
        assert verify_checkpoint(ctx.audit.latest_checkpoint(session) or "", vkey).size == 4


def test_missing_key_fails_closed(ctx: Context) -> None:
    fill(ctx, 1)
    with pytest.raises(Unavailable, match="run 'kinko init'"), ctx.db.transaction() as s:
        ctx.audit.checkpoint(s)


def test_key_for_another_origin_is_refused(ctx: Context) -> None:
    skey, _ = generate_signer("other.example/log")
    ctx.settings.resolved_audit_key_path.write_text(skey)
    ctx.settings.resolved_audit_key_path.chmod(0o600)
    with pytest.raises(ConfigError, match="audit_origin"), ctx.db.transaction() as s:
        ctx.audit.checkpoint(s)


def test_background_job_signs_only_when_the_log_grew(ctx: Context, vkey: str) -> None:
    fill(ctx, 2)
    assert issue_checkpoint_if_grown(ctx) == 2
    assert issue_checkpoint_if_grown(ctx) is None
    fill(ctx, 1, start=2)
    assert issue_checkpoint_if_grown(ctx) == 3


def test_export_refuses_a_store_whose_entry_no_longer_matches_its_hash(
    ctx: Context, vkey: str, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from kinko.store.tables.audit import AuditEntryRow

    fill(ctx, 300)
    report = ctx.audit.export(ctx.db, tmp_path / "good")
    assert report.size == 300
    assert verify_directory(tmp_path / "good", vkey).entries == 300
    with ctx.db.transaction() as session:
        session.execute(
            update(AuditEntryRow).where(AuditEntryRow.seq == 270).values(entry=b'{"sequence":270}')
        )
    with pytest.raises(IntegrityError, match="entry 270 does not match its stored hash"):
        ctx.audit.export(ctx.db, tmp_path / "bad")
    assert not (tmp_path / "bad" / "checkpoint").exists()


def test_concurrent_appends_and_checkpoints_never_yield_inconsistent_checkpoints(
    ctx: Context, vkey: str
) -> None:
    import threading

    from sqlalchemy import select

    from kinko.store.tables.audit import AuditCheckpointRow

    def appender(n: int) -> None:
        for i in range(6):
            with ctx.db.transaction() as session:
                ctx.audit.append(session, actor=f"user:{n}", action="t.c", subject=str(i))

    def checkpointer() -> None:
        for _ in range(6):
            with ctx.db.transaction() as session:
                ctx.audit.checkpoint(session)

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=checkpointer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with ctx.db.transaction() as session:
        ctx.audit.checkpoint(session)
        notes = list(session.execute(select(AuditCheckpointRow.note)).scalars())
        checkpoints = sorted((verify_checkpoint(n, vkey) for n in notes), key=lambda c: c.size)
        assert checkpoints[-1].size == 18
        assert len({c.size for c in checkpoints}) == len(checkpoints)
        for older, newer in pairwise(checkpoints):
            proof = ctx.audit.consistency_proof(session, older.size, newer.size)
            merkle.verify_consistency(
                older.size, newer.size, proof, older.root_hash, newer.root_hash
            )


def test_a_maximum_size_entry_exports_and_verifies(ctx: Context, vkey: str, tmp_path: Path) -> None:
    from kinko.audit.service import AuditItem, _encode
    from kinko.audit.tiles import MAX_ENTRY_BYTES
    from kinko.core.clock import isoformat

    base = len(
        _encode(AuditItem("user:a", "big.entry", "s", {"pad": ""}), 0, isoformat(ctx.clock.now()))
    )
    with ctx.db.transaction() as session:
        record = ctx.audit.append(
            session,
            actor="user:a",
            action="big.entry",
            subject="s",
            details={"pad": "p" * (MAX_ENTRY_BYTES - base)},
        )
        ctx.audit.append(session, actor="user:a", action="small", subject="s")
    assert len(record.entry) == 65535
    ctx.audit.export(ctx.db, tmp_path / "out")
    bundle = (tmp_path / "out" / "tile/entries/000.p/2").read_bytes()
    assert bundle[:2] == b"\xff\xff"
    assert verify_directory(tmp_path / "out", vkey).entries == 2
