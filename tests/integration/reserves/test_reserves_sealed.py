"""The snapshot secret is stored sealed with the data directory's secret key."""

from __future__ import annotations

import json
import secrets

import pytest
from sqlalchemy import select, update

from kinko.context import Context
from kinko.core.errors import IntegrityError, Unavailable
from kinko.custody import holdings
from kinko.identity.secretbox import SecretBox
from kinko.reserves import snapshot
from kinko.reserves.verify import verify_document
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.reserves import ReserveSnapshotRow
from tests.integration.custody.exchange import ACTOR, BTC, DAY, fund, set_up
from tests.support.cli import kinko, narrow_cli
from tests.support.identity import ensure_secret_key

LEDGER = [("alice", BTC, 3), ("bob", BTC, 4)]


def _built(ctx: Context, services: Services) -> str:
    ensure_secret_key(ctx)
    ids = set_up(ctx)
    fund(ctx, ids, btc_hot=0, btc_cold=7, eth_hot=0, eth_cold=0, eth_guarantee=0)
    with ctx.db.transaction() as s:
        holdings.set_liabilities(ctx, s, {BTC: 7}, source="ledger", actor=ACTOR)
        holdings.take_snapshot(ctx, s, DAY, actor=ACTOR)
    return services.reserves.build(LEDGER, day=DAY, actor=ACTOR).id


def _stored(ctx: Context, snapshot_id: str) -> ReserveSnapshotRow:
    with ctx.db.reading() as s:
        row = s.get(ReserveSnapshotRow, snapshot_id)
        assert row is not None
        s.expunge(row)
        return row


def test_the_secret_is_sealed_and_opens_only_with_the_key(
    ctx: Context, vkey: str, services: Services
) -> None:
    snapshot_id = _built(ctx, services)
    row = _stored(ctx, snapshot_id)
    assert len(row.secret) == 61  # version, nonce, 32 bytes, tag
    verify_document(json.loads(services.reserves.prove("alice", snapshot_id)), vkey)
    ctx.settings.resolved_secret_key_path.write_bytes(secrets.token_bytes(32))
    with pytest.raises(IntegrityError, match="does not decrypt"):
        services.reserves.prove("alice", snapshot_id)
    ctx.settings.resolved_secret_key_path.unlink()
    with pytest.raises(Unavailable, match="secret key"):
        services.reserves.prove("alice", snapshot_id)


def test_a_secret_stored_in_clear_is_refused_until_sealed(
    ctx: Context, vkey: str, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot_id = _built(ctx, services)
    # A row as the code before sealing wrote it: the same 32-byte secret, in clear.
    row = _stored(ctx, snapshot_id)
    box = SecretBox.from_file(ctx.settings.resolved_secret_key_path)
    clear = box.open(row.secret, context=f"kinko reserves snapshot secret {snapshot_id}")
    trees = snapshot.build(snapshot.Holdings.parse(LEDGER), clear, row.nonce, floor=row.floor)
    with ctx.db.transaction() as s:
        s.execute(
            update(ReserveSnapshotRow)
            .where(ReserveSnapshotRow.id == snapshot_id)
            .values(secret=clear)
        )
    with pytest.raises(IntegrityError, match=r"stored in clear.*kinko reserves seal"):
        services.reserves.prove("alice", snapshot_id)
    cli = narrow_cli(ctx, monkeypatch)
    result = kinko(cli, "reserves", "seal")
    assert result.exit_code == 0 and "sealed 1 snapshot secret(s)" in result.output
    assert snapshot_id in result.output
    assert services.reserves.seal_clear(actor=ACTOR) == []
    assert len(_stored(ctx, snapshot_id).secret) == 61
    with ctx.db.reading() as s:
        actions = [e.action for e in s.execute(select(AuditEntryRow)).scalars()]
    assert actions.count("reserves.secret.seal") == 1
    # Sealed again, the secret opens: the keys are those of the snapshot.
    proof = json.loads(services.reserves.prove("bob", snapshot_id))
    assert proof["key"] == trees.keys["bob"].hex()
