"""Pointing a process at another policy file changes nothing alone (issue 13, attack 5).

A policy read from ``policy_path`` / ``KINKO_POLICY_PATH`` takes over from the one in
force only once two security admins approved its text: one proposes it (``POST
/v1/policy/proposals``, which names every way it loosens the policy in force), another
approves it. Until then every decision under it is refused; the first policy a database
decides with is the first setup's. On both databases.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kinko.context import Context, build_context
from kinko.core.errors import PermissionDenied
from kinko.server import create_app
from kinko.store.tables.audit import AuditEntryRow
from tests.support.identity import ensure_secret_key, make_user, person_headers
from tests.support.services import services_of
from tests.support.votes import vote_json

SAMPLE = Path(__file__).parents[3] / "src" / "kinko" / "policy" / "default_policy.yaml"


def weaker_text() -> str:
    """The sample with a new version and the 2 BTC hot maximum raised to 200 BTC."""
    text = SAMPLE.read_text(encoding="utf-8")
    text = text.replace('version: "2026-11-21.1"', 'version: "weak-1"')
    return text.replace("max: 200000000 ", "max: 20000000000 ", 1)


@pytest.fixture
def weak_file(tmp_path: Path) -> Path:
    path = tmp_path / "weak.yaml"
    path.write_text(weaker_text(), encoding="utf-8")
    return path


@pytest.fixture
def processes(ctx: Context) -> Iterator[list[Context]]:
    """Other processes' contexts, closed at the end."""
    made: list[Context] = []
    yield made
    for other in made:
        other.db.dispose()


def configured(ctx: Context, path: Path, made: list[Context]) -> Context:
    """Another process's context on the same database, configured with `path`."""
    other = build_context(ctx.settings.model_copy(update={"policy_path": path}), clock=ctx.clock)
    made.append(other)
    return other


def activate(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        services_of(ctx).policy.record_version(session)


def audit_actions(ctx: Context, action: str) -> list[dict[str, object]]:
    with ctx.db.reading() as session:
        rows = session.execute(
            select(AuditEntryRow).where(AuditEntryRow.action == action).order_by(AuditEntryRow.seq)
        ).scalars()
        return [dict(json.loads(row.entry)["details"]) for row in rows]


def test_a_configured_policy_needs_two_admins_before_it_decides(
    ctx: Context, weak_file: Path, processes: list[Context]
) -> None:
    ensure_secret_key(ctx)
    sample = configured(ctx, SAMPLE, processes)
    activate(sample)  # the first policy: the first setup's
    assert audit_actions(ctx, "policy.activated")[-1]["approval"] == "first setup"

    weak = configured(ctx, weak_file, processes)
    with pytest.raises(PermissionDenied) as refused:
        activate(weak)
    assert refused.value.code == "policy_not_approved"
    assert "weak-1" in refused.value.message and "kinko policy propose" in refused.value.message

    _, key1 = make_user(ctx, "sec1", ["security_admin"])
    _, key2 = make_user(ctx, "sec2", ["security_admin"])
    _, key3 = make_user(ctx, "req", ["requester"])
    assert key1 and key2 and key3
    api = TestClient(create_app(ctx))
    body = {"text": weaker_text(), "source": "weak.yaml", "reason": "busy season"}
    as_requester = person_headers(ctx, "req", key3)
    assert api.post("/v1/policy/proposals", json=body, headers=as_requester).status_code == 403
    proposed = api.post(
        "/v1/policy/proposals", json=body, headers=person_headers(ctx, "sec1", key1)
    )
    assert proposed.status_code == 201, proposed.text
    payload = proposed.json()["payload"]
    assert payload["version"] == "weak-1" and payload["previous_version"] == "2026-11-21.1"
    assert [w["rule"] for w in payload["weakenings"]] == ["btc-hot-max"]
    proposal = proposed.json()["id"]
    # the same text again: one proposal is enough
    again = api.post("/v1/policy/proposals", json=body, headers=person_headers(ctx, "sec2", key2))
    assert again.status_code == 409 and again.json()["error"] == "policy_proposed"

    url = f"/v1/roles/proposals/{proposal}/approve"
    own = api.post(url, headers=person_headers(ctx, "sec1", key1))
    assert own.status_code == 403 and own.json()["error"] == "self_approval"
    with pytest.raises(PermissionDenied):
        activate(weak)  # still refused while it waits
    sec2 = person_headers(ctx, "sec2", key2)
    approved = api.post(url, json=vote_json(ctx, api, sec2, "proposal", proposal), headers=sec2)
    assert approved.status_code == 200 and approved.json()["state"] == "approved"

    activate(weak)  # now the configured file may take over
    activated = audit_actions(ctx, "policy.activated")[-1]
    assert activated["approval"] == proposal
    assert [w["rule"] for w in activated["weakenings"]] == ["btc-hot-max"]  # type: ignore[union-attr]
    approval = audit_actions(ctx, "policy.approved")
    assert approval and approval[-1]["proposal"] == proposal
    # going back to the sample is a change too: it needs its own approval
    with pytest.raises(PermissionDenied):
        activate(sample)


def test_a_policy_given_in_code_is_not_a_process_override(
    ctx: Context, weak_file: Path, processes: list[Context]
) -> None:
    """Tests and the demo hand a policy to the service themselves: not configuration."""
    from kinko.policy.loader import load_policy_file

    activate(configured(ctx, SAMPLE, processes))
    with ctx.db.transaction() as session:
        services_of(ctx).policy.deciding_with(load_policy_file(weak_file)).record_version(session)
    assert audit_actions(ctx, "policy.activated")[-1]["approval"] is None
