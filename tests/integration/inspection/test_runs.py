"""``kinko inspect run`` (issue #16 point 4) on both databases: snapshots imported into the
store, a run over a period, the report's findings, its byte-identical rerun, and the
audit-log inclusion proofs of its evidence checked with the audit package's verifiers."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kinko.audit import merkle
from kinko.audit.checkpoint import verify_checkpoint
from kinko.audit.note import generate_signer
from kinko.context import Context
from kinko.core.amount import Asset
from kinko.core.errors import InputError
from kinko.custody import wallets
from kinko.inspection.catalogue import Framework
from kinko.inspection.runs import ACTION, InspectionRuns
from kinko.inspection.snapshot import Snapshot
from kinko.inspection.snapshots import SnapshotService
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from tests.support.clock import RUN_DAY
from tests.unit.inspection.seed import days, snapshot

END = RUN_DAY - timedelta(days=1)
DAYS = days(END, 6)
BAD_DAY = DAYS[2]


@pytest.fixture
def vkey(ctx: Context) -> str:
    """The audit log's signing key where `kinko init` writes it; the verifier key back."""
    skey, verifier = generate_signer(ctx.settings.audit_origin)
    path = ctx.settings.resolved_audit_key_path
    path.write_text(skey + "\n", encoding="utf-8")
    path.chmod(0o600)
    return verifier


def record(ctx: Context, snaps: list[Snapshot]) -> None:
    with ctx.db.transaction() as s:
        wallets.unsafe_register_asset(ctx, s, Asset("BTC", "bitcoin", 8), actor="user:custodian")
    doc = {"snapshots": [{"digest": x.digest, "document": x.to_json()} for x in snaps]}
    SnapshotService(ctx).import_documents(doc, actor="local:tester", source="seed.json")


def runs(ctx: Context, services: Services) -> InspectionRuns:
    return InspectionRuns(ctx, conflict_matrix=services.identity.conflict_matrix)


def findings(path: Path) -> dict[str, dict[str, Any]]:
    return {f["control"]: f for f in json.loads(path.read_bytes())["findings"]}


def test_a_run_fails_the_cold_share_on_its_day_proves_its_evidence_and_reruns_identically(
    ctx: Context, services: Services, vkey: str, tmp_path: Path
) -> None:
    record(ctx, [snapshot(d, cold=94_900_000 if d == BAD_DAY else 97_000_000) for d in DAYS])
    first = runs(ctx, services).run(
        Framework.JP, tmp_path / "a", actor="local:tester", start=DAYS[0], end=END
    )
    data = first.path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == first.digest
    report = json.loads(data)
    assert report["schema"] == "kinko.inspection.report/1"
    assert report["period"] == {"from": DAYS[0].isoformat(), "to": END.isoformat()}
    found = findings(first.path)
    cus01 = found["CUS-01"]
    assert cus01["status"] == "fail"
    [failure] = cus01["failures"]
    assert failure["from"] == failure["to"] == BAD_DAY.isoformat()
    assert failure["value"] == "0.051000" and failure["limit"] == "0.05"
    for control in ("KEY-01", "IAM-01", "IAM-03"):
        assert found[control]["status"] == "pass", found[control]
    assert found["CUS-05"]["status"] == "insufficient_evidence"  # no `kinko reserves` snapshot
    assert "no proof-of-reserves snapshot in the period" in found["CUS-05"]["reason"]
    assert report["summary"]["fail"] == 1 and report["summary"]["pass"] == 3

    # The rerun on the same data and period: the same bytes (another audit entry).
    again = runs(ctx, services).run(
        Framework.JP, tmp_path / "b", actor="local:tester", start=DAYS[0], end=END
    )
    assert again.path.read_bytes() == data and again.audit_seq == first.audit_seq + 1

    # The report's digest is in the audit log.
    with ctx.db.reading() as s:
        rows = s.execute(select(AuditEntryRow).where(AuditEntryRow.action == ACTION)).scalars()
        logged = [json.loads(r.entry)["details"] for r in rows]
    assert [d["digest"] for d in logged] == [first.digest, first.digest]
    assert logged[0]["from"] == DAYS[0].isoformat() and logged[0]["framework"] == "jp"

    # Every snapshot a finding used is proven into the signed checkpoint, offline.
    evidence = report["evidence"]
    checkpoint = verify_checkpoint(evidence["log"]["checkpoint"], vkey)
    assert base64.b64decode(evidence["log"]["root_hash"]) == checkpoint.root_hash
    proven = {p["day"]: p for p in evidence["snapshots"]}
    assert set(proven) == {d.isoformat() for d in DAYS} == set(cus01["evidence"])
    for item in proven.values():
        entry = item["entry"].encode()
        leaf = merkle.leaf_hash(entry)
        assert base64.b64decode(item["leaf_hash"]) == leaf
        proof = [base64.b64decode(h) for h in item["proof"]]
        merkle.verify_inclusion(
            leaf, item["audit_seq"], checkpoint.size, proof, checkpoint.root_hash
        )
        logged_entry = json.loads(entry)
        assert logged_entry["action"] == "inspection.snapshot"
        assert logged_entry["details"]["digest"] == item["digest"]


def test_a_day_without_a_snapshot_is_insufficient_evidence(
    ctx: Context, services: Services, vkey: str, tmp_path: Path
) -> None:
    record(ctx, [snapshot(d) for d in DAYS if d != BAD_DAY])
    result = runs(ctx, services).run(
        Framework.JP, tmp_path, actor="local:tester", start=DAYS[0], end=END
    )
    found = findings(result.path)
    for control in ("CUS-01", "CUS-05", "KEY-01", "IAM-01", "IAM-03"):
        assert found[control]["status"] == "insufficient_evidence", control
        assert found[control]["missing"] == [
            {
                "from": BAD_DAY.isoformat(),
                "to": BAD_DAY.isoformat(),
                "what": "no snapshot of this day",
            }
        ]
    assert result.summary["pass"] == 0


def test_a_period_after_today_or_upside_down_is_refused_naming_the_option(
    ctx: Context, services: Services, tmp_path: Path
) -> None:
    with pytest.raises(InputError) as excinfo:
        runs(ctx, services).run(
            None, tmp_path / "out", actor="t", start=DAYS[0], end=RUN_DAY + timedelta(days=1)
        )
    assert excinfo.value.field == "--to"
    with pytest.raises(InputError) as excinfo:
        runs(ctx, services).run(None, tmp_path / "out", actor="t", start=END, end=DAYS[0])
    assert excinfo.value.field == "--to"
    assert not (tmp_path / "out").exists()  # nothing written
