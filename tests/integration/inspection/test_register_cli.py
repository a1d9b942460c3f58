"""`kinko register ...` as the people who use it, through the real API, on both databases:
a security_admin proposes (from flags, or a CSV or YAML file as one proposal), the CISO
approves with their own security key (`kinko role approve ID --assertion FILE`), nobody
approves their own proposal, bad input exits 2 naming the file, line and field."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from kinko.context import Context
from tests.support.cli_api import kinko, route_cli_to_api
from tests.support.identity import make_user
from tests.support.votes import key_args

SEC, CISO = "sec", "carla"
VENDOR_FLAGS = (
    "-f", "name=Acme Wallet Software", "-f", "service=hot-wallet signing library",
    "-f", "critical=yes", "-f", "risk=high", "-f", "last_review_on=2025-11-01",
    "-f", "next_review_due=2026-11-01",
)  # fmt: skip
TRAINING_CSV = """person,course,completed_on
alice,Phishing awareness 2026,2026-02-03
bob,Phishing awareness 2026,2026-02-04
dave,Key custody basics,2026-02-10
"""
GOVERNANCE_YAML = """
ciso:
  - person: carol
    since: 2025-04-01
    independent: false
    reports_to: CEO
    other_duties: [CTO]
staffing:
  - {fiscal_year: 2026, function: it, headcount: 12, budget_minor: 240000000, currency: JPY}
  - {fiscal_year: 2026, function: security, headcount: 2, budget_minor: 18000000, currency: JPY}
engagement:
  - ref: IA-2026-01
    title: Wallet management
    plan_year: 2026
    scope: cold and hot wallet procedures, key ceremonies
    risk_based_plan: true
    stage: risk_based
    started_on: 2026-05-11
    reported_on: 2026-06-30
    findings:
      - {id: F-1, severity: medium, title: seal log incomplete, due_on: 2026-08-31}
"""


@pytest.fixture(autouse=True)
def people(ctx: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    route_cli_to_api(ctx, monkeypatch, tmp_path / "config")
    make_user(ctx, SEC, ["security_admin"])
    make_user(ctx, CISO, ["ciso"])


def proposed(ctx: Context, *args: str, as_: str = SEC) -> dict[str, object]:
    code, out = kinko(ctx, "register", *args, "--json", as_=as_)
    assert code == 0, out
    answer: dict[str, object] = json.loads(out)
    assert answer["state"] == "pending"
    return answer


def refusal(out: str) -> dict[str, str]:
    """The ``--json`` document a failed command prints (after its message on stderr)."""
    found: dict[str, str] = json.loads(out[out.index("{") :])
    return found


def approve(ctx: Context, proposal: str, *, as_: str = CISO) -> tuple[int, str]:
    return kinko(
        ctx, "role", "approve", proposal, *key_args(ctx, "proposal", proposal, as_=as_), as_=as_
    )


def held(ctx: Context, kind: str | None = None) -> list[dict[str, object]]:
    extra = ("--kind", kind) if kind else ()
    code, out = kinko(ctx, "register", "list", *extra, "--json", as_=CISO)
    assert code == 0, out
    return list(json.loads(out)["records"])


def test_a_change_from_flags_is_approved_by_a_second_person(ctx: Context) -> None:
    proposal = proposed(ctx, "propose", "vendor", "--reason", "annual review", *VENDOR_FLAGS)
    assert held(ctx) == []
    code, out = kinko(ctx, "register", "propose", "vendor", "--reason", "r", *VENDOR_FLAGS,
                      as_=SEC)  # fmt: skip
    assert code == 0 and "kinko role approve" in out, out  # the human-readable answer
    # The proposer's own key does not make it two people.
    code, out = approve(ctx, str(proposal["id"]), as_=SEC)
    assert code == 1 and "cannot approve it" in out, out
    code, out = approve(ctx, str(proposal["id"]))
    assert code == 0 and "approved" in out, out
    [vendor] = held(ctx, "vendor")
    assert vendor["record"]["critical"] is True  # type: ignore[index]
    code, out = kinko(ctx, "register", "show", "vendor", "Acme Wallet Software", as_=CISO)
    assert code == 0 and "version 1" in out and "next_review_due: 2026-11-01" in out, out


def test_bad_input_exits_2_naming_the_field(ctx: Context, tmp_path: Path) -> None:
    flags = [f.replace("2026-11-01", "next year") for f in VENDOR_FLAGS]
    code, out = kinko(ctx, "register", "propose", "vendor", "--reason", "r", *flags,
                      "--json", as_=SEC)  # fmt: skip
    assert code == 2, out
    assert refusal(out)["field"] == "--field.next_review_due"
    code, out = kinko(ctx, "register", "propose", "budget", "--reason", "r", as_=SEC)
    assert code == 2 and "unknown kind 'budget'" in out, out
    bad = tmp_path / "training.csv"
    bad.write_text(TRAINING_CSV.replace("2026-02-04", "04/02/2026"))
    code, out = kinko(ctx, "register", "import", str(bad), "--kind", "training", "--reason",
                      "r", "--json", as_=SEC)  # fmt: skip
    assert code == 2 and refusal(out)["field"] == "training.csv:3.completed_on", out
    code, out = kinko(ctx, "register", "import", str(bad), "--reason", "r", as_=SEC)
    assert code == 2 and "--kind" in out, out
    # Proposing needs register:write: an auditor is refused (exit 1), nothing proposed.
    make_user(ctx, "aud", ["auditor"])
    code, out = kinko(ctx, "register", "propose", "vendor", "--reason", "r", *VENDOR_FLAGS,
                      as_="aud")  # fmt: skip
    assert code == 1 and "register:write" in out, out
    assert held(ctx) == []


def test_a_csv_and_a_yaml_file_are_one_proposal_each(ctx: Context, tmp_path: Path) -> None:
    csv_file = tmp_path / "training.csv"
    csv_file.write_text(TRAINING_CSV)
    proposal = proposed(ctx, "import", str(csv_file), "--kind", "training", "--reason", "HR")
    assert len(proposal["payload"]["changes"]) == 3  # type: ignore[index]
    assert approve(ctx, str(proposal["id"]))[0] == 0
    people = sorted(str(r["record"]["person"]) for r in held(ctx, "training"))  # type: ignore[index]
    assert people == ["alice", "bob", "dave"]

    yaml_file = tmp_path / "governance.yaml"
    yaml_file.write_text(GOVERNANCE_YAML)
    proposal = proposed(ctx, "import", str(yaml_file), "--reason", "board pack")
    # carla (the approver) is not the carol the CISO record names: she may approve.
    assert approve(ctx, str(proposal["id"]))[0] == 0
    kinds = sorted(str(r["kind"]) for r in held(ctx))
    assert kinds == ["ciso", "engagement", "staffing", "staffing", "training", "training",
                     "training"]  # fmt: skip
    [engagement] = held(ctx, "engagement")
    assert engagement["record"]["stage"] == "risk_based"  # type: ignore[index]
    assert engagement["record"]["findings"][0]["due_on"] == "2026-08-31"  # type: ignore[index]
    broken = tmp_path / "broken.yaml"
    broken.write_text(GOVERNANCE_YAML.replace("stage: risk_based", "stage: best"))
    code, out = kinko(ctx, "register", "import", str(broken), "--reason", "r", "--json", as_=SEC)
    assert code == 2 and refusal(out)["field"] == "engagement[0].stage", out


def test_attachments_by_digest(ctx: Context, tmp_path: Path) -> None:
    minutes = tmp_path / "ceremony-minutes.pdf"
    minutes.write_bytes(b"%PDF-1.7 key generation ceremony minutes")
    digest = hashlib.sha256(minutes.read_bytes()).hexdigest()
    code, out = kinko(ctx, "register", "attach", str(minutes), "--json", as_=SEC)
    assert code == 0 and json.loads(out)["sha256"] == digest, out
    proposal = proposed(
        ctx, "propose", "ceremony", "--reason", "KGC-7 held",
        "-f", "ref=KGC-2026-07", "-f", "purpose=generation", "-f", "held_on=2026-07-01",
        "-f", "procedure=KGC-7", "-f", "participants=dave;erin", "-f", "witnesses=frank",
        "--attach", str(minutes),
    )  # fmt: skip
    assert approve(ctx, str(proposal["id"]))[0] == 0
    [ceremony] = held(ctx, "ceremony")
    assert ceremony["record"]["attachments"] == [digest]  # type: ignore[index]
    code, out = kinko(ctx, "register", "attach", str(tmp_path / "missing.pdf"), as_=SEC)
    assert code == 2 and "--attach" in out, out
