"""Issue #16 point 7: an exchange seeded through Kinko's services with one violation per
class; ``kinko inspect run --framework all`` flags exactly those, and nothing else fails,
on both databases."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest

from kinko.audit.checkpoint import verify_checkpoint
from kinko.audit.merkle import leaf_hash, verify_inclusion
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import IntegrityError
from kinko.inspection.signing import _check_evidence
from kinko.services import Services
from tests.integration.inspection.planted import (
    BAD_DAY,
    DAYS,
    END,
    NONCE_DAY,
    VENDOR_DUE,
    seed,
)
from tests.integration.inspection.test_cli_snapshots import as_json, kinko
from tests.integration.inspection.test_runs import vkey

__all__ = ["vkey"]
FIRST, LAST = DAYS[0].isoformat(), END.isoformat()


def test_the_run_flags_each_planted_violation_and_nothing_else(
    ctx: Context, services: Services, clock: FixedClock, vkey: str, tmp_path: Path
) -> None:
    seed(ctx, services, clock, tmp_path)
    out = tmp_path / "reports"
    code, output = kinko(
        ctx, "inspect", "run", "--framework", "all", "--from", FIRST, "--to", LAST,
        "--out", str(out), "--json",
    )  # fmt: skip
    assert code == 0, output
    report = json.loads(Path(as_json(output)["report"]).read_bytes())
    found = {f["control"]: f for f in report["findings"]}
    failed = {
        c: [(x["from"], x["to"], x["check"], x["value"]) for x in f["failures"]]
        for c, f in found.items()
        if f["status"] == "fail"
    }
    bad, nonce, after_due = BAD_DAY.isoformat(), NONCE_DAY.isoformat(), VENDOR_DUE.isoformat()
    third, fourth = DAYS[2].isoformat(), DAYS[3].isoformat()
    assert set(failed) == {"CUS-01", "KEY-02", "IAM-03", "IAM-06", "KEY-08", "GOV-04",
                           "IR-01", "GOV-01", "GOV-02", "MON-02"}, failed  # fmt: skip
    assert failed["CUS-01"] == [(bad, bad, "share outside cold", "0.051000")]
    assert failed["KEY-02"] == [(FIRST, LAST, "one key share per device", "2 shares")]
    assert "HSM-9 / hsm-9" in found["KEY-02"]["failures"][0]["detail"]
    assert failed["IAM-03"] == [(FIRST, third, "conflicting roles", "operator + requester")]
    assert [f[:3] for f in failed["IAM-06"]] == [(FIRST, LAST, "inactivity")]
    enrolled = (DAYS[0] - timedelta(days=100)).isoformat()  # dora's enrolment, her last sign-in
    assert failed["IAM-06"][0][3] == f"no sign-in since {enrolled}"
    assert "dora" in found["IAM-06"]["failures"][0]["detail"]
    assert ", privileged," in found["IAM-06"]["failures"][0]["detail"]
    assert [f[:3] for f in failed["KEY-08"]] == [(nonce, LAST, "no repeated r")]
    assert failed["GOV-04"] == [(fourth, LAST, "vendor review not overdue", f"due {after_due}")]
    assert [f[:3] for f in failed["IR-01"]] == [
        (FIRST, LAST, "key-compromise drill within 12 months")
    ]
    assert failed["GOV-01"] == [(FIRST, LAST, "no conflicting duty", "Head of IT operations")]
    assert failed["GOV-02"] == [(FIRST, LAST, "security budget / IT budget", "0.0500")]
    assert "recommendation" in found["GOV-02"]["failures"][0]["detail"]
    # the Korean report 28 h after detection, late on the day its 24 h ran out; not the
    # Japanese one reported within the hour
    assert failed["MON-02"] == [(third, third, "reported within the deadline", "28.00 hours")]
    assert "INC-1" in found["MON-02"]["failures"][0]["detail"]
    assert "KISA" in found["MON-02"]["failures"][0]["detail"]
    # what the seed keeps is decided as kept
    for control in ("CUS-02", "KEY-01", "KEY-03", "CUS-09", "VUL-01"):
        assert found[control]["status"] == "pass", found[control]
    assert found["CUS-05"]["status"] == "insufficient_evidence"  # no `kinko reserves` snapshot
    assert report["summary"]["fail"] == 10
    # the FSA's self-inspection items answered from those findings
    items = {i["item"]: i for i in report["self_inspection"]["items"]}
    assert items["FSA-W-1b"]["status"] == "fail"  # IAM-03: the SoD conflict
    assert "IAM-03" in items["FSA-W-1b"]["answer"]
    assert items["FSA-W-1f"]["status"] == "fail"  # GOV-04: the vendor review overdue
    assert items["FSA-W-1d"]["status"] == "insufficient_evidence"  # CUS-10 is not decided
    # every register record a failure cites is proven in the audit log, checked offline
    cited = {r["path"] for f in found.values() for x in f["failures"] for r in x["rows"]
             if r["path"].startswith("register[")}  # fmt: skip
    proven = {r["path"]: r for r in report["evidence"]["register"]}
    assert set(proven) == cited and "register[incident/INC-1]@v1" in cited
    checkpoint = verify_checkpoint(report["evidence"]["log"]["checkpoint"], vkey)
    for row in proven.values():
        entry = row["entry"].encode()
        assert json.loads(entry)["details"]["digest"] == row["digest"]
        hashes = [base64.b64decode(h) for h in row["proof"]]
        verify_inclusion(leaf_hash(entry), row["audit_seq"], checkpoint.size, hashes,
                         checkpoint.root_hash)  # fmt: skip
    path = as_json(output)["report"]
    code, output = kinko(ctx, "inspect", "verify", path, "--vkey", vkey, "--json")
    assert code == 0, output
    assert as_json(output)["evidence_proofs"] == len(report["evidence"]["snapshots"]) + len(cited)
    altered = json.loads(json.dumps(report))  # a cited record's digest changed: refused
    altered["evidence"]["register"][0]["digest"] = "0" * 64
    with pytest.raises(IntegrityError, match="is not the one its entry logged"):
        _check_evidence(altered, vkey)
