"""The governance register through the API (issue #16 point 3), on both databases.

A security_admin or the CISO proposes changes (202, nothing written); a second one of
them approves with their own security key over a step-up bound to the proposal; then the
records are in the register, each version with its digest, proposal and audit entry.
"""

from __future__ import annotations

import hashlib
import json
import stat
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kinko.context import Context
from kinko.inspection.governance import ATTACHMENTS
from kinko.server import create_app
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from tests.support.identity import bearer, make_token, make_user, person_headers
from tests.support.votes import vote_json

CISO = {
    "person": "carol",
    "since": "2025-04-01",
    "independent": False,
    "reports_to": "CEO",
    "other_duties": ["CTO"],
}
VENDOR = {
    "name": "Acme Wallet Software",
    "service": "hot-wallet signing library",
    "critical": True,
    "risk": "high",
    "last_review_on": "2025-11-01",
    "next_review_due": "2026-11-01",
}


@pytest.fixture
def api(ctx: Context, services: Services) -> TestClient:
    return TestClient(create_app(ctx, services=services), base_url="https://testserver")


def person(ctx: Context, name: str, roles: list[str]) -> dict[str, str]:
    _, key = make_user(ctx, name, roles)
    assert key is not None
    return person_headers(ctx, name, key)


def propose(api: TestClient, headers: dict[str, str], *changes: dict[str, Any]) -> Any:
    return api.post(
        "/v1/register/proposals",
        json={"changes": list(changes), "reason": "annual governance update"},
        headers=headers,
    )


def put(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"op": "put", "kind": kind, "record": record}


def approve(ctx: Context, api: TestClient, proposal: str, headers: dict[str, str]) -> Any:
    body = vote_json(ctx, api, headers, "proposal", proposal)
    return api.post(f"/v1/roles/proposals/{proposal}/approve", json=body, headers=headers)


def records(api: TestClient, headers: dict[str, str], kind: str | None = None) -> list[Any]:
    answer = api.get("/v1/register/records", params={"kind": kind} if kind else {}, headers=headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["records"])


def test_a_second_person_applies_what_one_proposed(ctx: Context, api: TestClient) -> None:
    sec = person(ctx, "sec", ["security_admin"])
    ciso = person(ctx, "carla", ["ciso"])
    auditor = bearer(make_token(ctx, roles_or_permissions=["auditor"]))

    proposed = propose(api, sec, put("ciso", CISO), put("vendor", VENDOR))
    assert proposed.status_code == 202, proposed.text
    body = proposed.json()
    assert (body["kind"], body["state"]) == ("register_change", "pending")
    assert [c["key"] for c in body["payload"]["changes"]] == ["ciso", "Acme Wallet Software"]
    assert [c["version"] for c in body["payload"]["changes"]] == [1, 1]
    assert records(api, auditor) == []  # nothing is written before the second person

    done = approve(ctx, api, body["id"], ciso)
    assert done.status_code == 200 and done.json()["state"] == "approved", done.text
    held = {r["kind"]: r for r in records(api, auditor)}
    assert held["ciso"]["record"]["other_duties"] == ["CTO"]
    assert held["vendor"]["record"]["next_review_due"] == "2026-11-01"
    assert held["vendor"]["proposal"] == body["id"]
    assert held["vendor"]["approved_by"].startswith("user:")
    with ctx.db.reading() as session:
        audited = session.execute(
            select(AuditEntryRow).where(AuditEntryRow.action == "inspection.register_change")
        ).scalars()
        digests = {e.subject: json.loads(e.entry)["details"]["digest"] for e in audited}
    assert digests["register:vendor/Acme Wallet Software"] == held["vendor"]["digest"]

    # Replacing and removing are changes too: each a new version, the old ones kept.
    reviewed = {**VENDOR, "last_review_on": "2026-10-15", "next_review_due": "2027-10-15"}
    second = propose(api, ciso, put("vendor", reviewed), {"op": "remove", "kind": "ciso",
                                                          "key": "ciso"})  # fmt: skip
    assert second.status_code == 202, second.text
    assert approve(ctx, api, second.json()["id"], sec).status_code == 200
    assert [r["kind"] for r in records(api, auditor)] == ["vendor"]
    history = api.get("/v1/register/records/vendor/Acme Wallet Software", headers=auditor)
    assert [v["version"] for v in history.json()["versions"]] == [1, 2]
    gone = api.get("/v1/register/records/ciso/ciso", headers=auditor).json()["versions"]
    assert [(v["version"], v["removed"], v["record"]) for v in gone][-1] == (2, True, None)


def test_nobody_approves_their_own_change_or_one_about_them(ctx: Context, api: TestClient) -> None:
    sec = person(ctx, "sec", ["security_admin"])
    carol = person(ctx, "carol", ["ciso"])  # the CISO the record names
    proposed = propose(api, sec, put("ciso", CISO)).json()
    assert proposed["payload"]["subjects"] != []
    for headers, code in (
        (sec, "self_approval"),  # the proposer
        (carol, "self_approval"),  # the person the record is about
        (person(ctx, "aud", ["auditor"]), "approver_ineligible"),
        (person(ctx, "ops", ["operator"]), "approver_ineligible"),
    ):
        refused = approve(ctx, api, proposed["id"], headers)
        assert (refused.status_code, refused.json()["error"]) == (403, code), refused.text
    # A session alone (no step-up) is not a vote either.
    other = person(ctx, "sec2", ["security_admin"])
    bare = api.post(f"/v1/roles/proposals/{proposed['id']}/approve", json={}, headers=other)
    assert bare.status_code in (401, 403), bare.text
    assert approve(ctx, api, proposed["id"], other).status_code == 200


def test_bad_input_is_refused_naming_the_field(ctx: Context, api: TestClient) -> None:
    sec = person(ctx, "sec", ["security_admin"])
    cases = [
        (put("ciso", {**CISO, "since": "April 2025"}), "changes[0].record.since"),
        (put("staffing", {"fiscal_year": 2026, "function": "it", "headcount": -3,
                          "budget_minor": 10, "currency": "JPY"}),
         "changes[0].record.headcount"),
        (put("staffing", {"fiscal_year": 2026, "function": "it", "headcount": 3,
                          "budget_minor": 10, "currency": "yen"}),
         "changes[0].record.currency"),
        (put("vendor", {**VENDOR, "next_review_due": "2024-01-01"}),
         "changes[0].record.next_review_due"),
        (put("engagement", {"ref": "IA-1", "title": "t", "plan_year": 2026, "scope": "s",
                            "risk_based_plan": True, "stage": "excellent",
                            "started_on": "2026-01-10"}),
         "changes[0].record.stage"),
        ({"op": "put", "kind": "budget", "record": {}}, "changes[0].kind"),
        ({"op": "remove", "kind": "vendor", "key": "Nobody"}, "changes[0].key"),
        (put("vendor", {**VENDOR, "colour": "red"}), "changes[0].record.colour"),
    ]  # fmt: skip
    for change, field in cases:
        answer = propose(api, sec, change)
        assert answer.status_code == 422, (field, answer.text)
        assert (answer.json()["error"], answer.json()["field"]) == ("invalid_input", field)
    twice = propose(api, sec, put("vendor", VENDOR), put("vendor", VENDOR))
    assert twice.json()["field"] == "changes[1]"
    # Who may not propose at all.
    ops = person(ctx, "ops", ["operator"])
    assert propose(api, ops, put("vendor", VENDOR)).json()["error"] == "missing_permission"
    scoped = bearer(make_token(ctx, roles_or_permissions=["register:write"], assets=["BTC"]))
    assert propose(api, scoped, put("vendor", VENDOR)).status_code == 403
    upload = api.post("/v1/register/attachments", files={"file": ("a.txt", b"a")}, headers=scoped)
    assert upload.status_code == 403, upload.text
    assert records(api, bearer(make_token(ctx, roles_or_permissions=["auditor"]))) == []


def test_attachments_are_stored_by_digest(ctx: Context, api: TestClient) -> None:
    sec = person(ctx, "sec", ["security_admin"])
    ciso = person(ctx, "carla", ["ciso"])
    report = b"%PDF-1.7 penetration test report, final\n"
    digest = hashlib.sha256(report).hexdigest()
    stored = api.post(
        "/v1/register/attachments", files={"file": ("pt-2026.pdf", report)}, headers=sec
    )
    assert stored.status_code == 201, stored.text
    assert (stored.json()["sha256"], stored.json()["new"]) == (digest, True)
    path = ctx.settings.data_dir / ATTACHMENTS / digest
    assert path.read_bytes() == report
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = api.post("/v1/register/attachments", files={"file": ("copy.pdf", report)}, headers=sec)
    assert again.json()["new"] is False

    test = {
        "ref": "PT-2026-01",
        "kind": "penetration_test",
        "provider": "Red Team KK",
        "scope": "API and console",
        "started_on": "2026-03-02",
        "reported_on": "2026-03-20",
        "findings": [{"id": "F-1", "severity": "high", "title": "weak TLS",
                      "due_on": "2026-04-30", "remediated_on": "2026-04-12"}],
    }  # fmt: skip
    unknown = "ab" * 32
    refused = propose(api, sec, put("assessment", {**test, "attachments": [unknown]}))
    assert refused.json()["field"] == "changes[0].record.attachments[0]", refused.text
    proposed = propose(api, sec, put("assessment", {**test, "attachments": [digest]})).json()
    assert approve(ctx, api, proposed["id"], ciso).status_code == 200
    [held] = records(api, ciso, "assessment")
    assert held["record"]["attachments"] == [digest]
    assert held["record"]["findings"][0]["remediated_on"] == "2026-04-12"
    fetched = api.get(f"/v1/register/attachments/{digest}", headers=ciso)
    assert fetched.status_code == 200 and fetched.content == report
    assert fetched.headers["X-Kinko-Filename"] == "pt-2026.pdf"
    # A damaged file is told, never served.
    path.write_bytes(b"altered")
    broken = api.get(f"/v1/register/attachments/{digest}", headers=ciso)
    assert broken.json()["error"] == "integrity_failure", broken.text
