"""TOTP approvals (`totp_server_attested`): off by default, weaker and marked as such,
single use, never by the requester, never by a WebAuthn-only role unless weakened."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.core.clock import FixedClock
from kinko.core.errors import ApprovalError
from kinko.identity.sessions import COOKIE_NAME, CSRF_HEADER
from kinko.server import create_app
from kinko.withdrawals.states import State
from tests.integration.withdrawals.exchange import Exchange
from tests.integration.withdrawals.totp import (
    approval_entries,
    code,
    configure,
    enrol_totp,
    pending,
)
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_refused_while_the_setting_is_off(exchange: Exchange) -> None:
    ex = exchange
    configure(ex, totp=False, weak=True)
    secret = enrol_totp(ex, "bob")
    wd = pending(ex, "k-off")
    with pytest.raises(ApprovalError, match="allow_totp_approvals") as refused:
        ex.approvals.approve_totp(wd.id, approver=ex.user("bob"), code=code(ex, secret))
    assert refused.value.code == "totp_approvals_disabled"
    after = ex.withdrawals.get(wd.id)
    assert after.state is State.PENDING_APPROVAL and after.approvals == ()


def test_accepted_marked_and_counted_toward_quorum(exchange: Exchange) -> None:
    ex = exchange
    configure(ex, totp=True, weak=True)
    secret = enrol_totp(ex, "bob")
    wd = pending(ex, "k-on")
    assert wd.digest is not None
    the_code = code(ex, secret)
    first = ex.approvals.approve_totp(wd.id, approver=ex.user("bob"), code=the_code)
    assert first.state is State.PENDING_APPROVAL
    assert [a["binding"] for a in first.approvals] == ["totp_server_attested"]
    second = ex.approvals.approve(
        wd.id, approver=ex.user("carol"), assertion=ex.assert_digest("carol", wd.digest)
    )
    # Counted: the quorum is reached, and the signer (verifying the attestation) signed.
    assert second.state is State.BROADCAST
    assert [a["binding"] for a in second.approvals] == ["totp_server_attested", "webauthn"]
    totp_entry = approval_entries(ex, wd.id)[0]
    assert totp_entry["binding"] == "totp_server_attested"
    assert totp_entry["digest"] == wd.digest
    # The code and the key never reach the audit log: only the digest, roles and the MAC.
    assert set(totp_entry) == {
        "approver",
        "binding",
        "digest",
        "roles",
        "attested_at",
        "attestation_mac",
    }
    assert the_code not in str(totp_entry["attested_at"])


def test_a_replayed_code_is_refused(exchange: Exchange) -> None:
    ex = exchange
    configure(ex, totp=True, weak=True)
    secret = enrol_totp(ex, "bob")
    one, two = pending(ex, "k-r1"), pending(ex, "k-r2")
    the_code = code(ex, secret)
    ex.approvals.approve_totp(one.id, approver=ex.user("bob"), code=the_code)
    with pytest.raises(ApprovalError, match="wrong, expired or already used") as refused:
        ex.approvals.approve_totp(two.id, approver=ex.user("bob"), code=the_code)
    assert refused.value.code == "totp_invalid"
    assert ex.withdrawals.get(two.id).approvals == ()


def test_the_requester_cannot_approve_by_totp(exchange: Exchange) -> None:
    ex = exchange
    configure(ex, totp=True, weak=False)
    secret = enrol_totp(ex, "alice")  # a requester: TOTP is allowed for the role
    wd = pending(ex, "k-req")
    with pytest.raises(ApprovalError, match="cannot approve") as refused:
        ex.approvals.approve_totp(wd.id, approver=ex.user("alice"), code=code(ex, secret))
    assert refused.value.code == "requester_approved"


def test_webauthn_only_roles_are_refused_unless_weakened(exchange: Exchange) -> None:
    ex = exchange
    configure(ex, totp=True, weak=True)
    secret = enrol_totp(ex, "bob")
    configure(ex, totp=True, weak=False)
    wd = pending(ex, "k-weak")
    with pytest.raises(ApprovalError, match="allow_weak_mfa_for_privileged") as refused:
        ex.approvals.approve_totp(wd.id, approver=ex.user("bob"), code=code(ex, secret))
    assert refused.value.code == "weak_mfa_refused"


def test_totp_approvals_stop_counting_when_the_setting_is_turned_off(
    exchange: Exchange,
) -> None:
    ex = exchange
    configure(ex, totp=True, weak=True)
    secret = enrol_totp(ex, "bob")
    wd = pending(ex, "k-count")
    assert wd.digest is not None
    ex.approvals.approve_totp(wd.id, approver=ex.user("bob"), code=code(ex, secret))
    configure(ex, totp=False, weak=True)
    after = ex.approvals.approve(
        wd.id, approver=ex.user("carol"), assertion=ex.assert_digest("carol", wd.digest)
    )
    assert after.state is State.PENDING_APPROVAL  # 1 countable approval of 2


def test_approve_by_totp_through_the_api(exchange: Exchange) -> None:
    ex = exchange
    configure(ex, totp=True, weak=True)
    secret = enrol_totp(ex, "bob")
    wd = pending(ex, "k-api")
    server = create_app(ex.ctx, services=ex.services)
    with TestClient(server, base_url="https://testserver") as api:
        authenticator = ex.users["bob"][1]
        assert authenticator is not None
        cookie, csrf = sign_in(ex.ctx, "bob", authenticator)
        api.cookies.set(COOKIE_NAME, cookie)
        both = api.post(
            f"/v1/withdrawals/{wd.id}/approve",
            json={"totp": code(ex, secret), "assertion": {}},
            headers={CSRF_HEADER: csrf},
        )
        assert both.status_code in {400, 422} and both.json()["field"] == "assertion"
        response = api.post(
            f"/v1/withdrawals/{wd.id}/approve",
            json={"totp": code(ex, secret)},
            headers={CSRF_HEADER: csrf},
        )
        assert response.status_code == 200, response.text
        assert response.json()["approvals"][0]["binding"] == "totp_server_attested"


def test_approve_by_totp_on_the_command_line(
    exchange: Exchange, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ex = exchange
    assert isinstance(ex.ctx.clock, FixedClock)
    ex.ctx.clock.set(datetime.now(UTC))  # the CLI verifies the code on the real clock
    configure(ex, totp=True, weak=True)
    secret = enrol_totp(ex, "bob")
    wd = pending(ex, "k-cli")

    route_cli_to_api(ex.ctx, monkeypatch, tmp_path / "config")
    bob = as_person(ex.ctx, "bob")

    def kinko(*args: str, totp_on: bool) -> tuple[int, str]:
        """`kinko withdraw approve ARGS` by bob, the server allowing TOTP approvals or not."""
        configure(ex, totp=totp_on, weak=True)
        settings = ex.ctx.settings
        env = {"KINKO_DATABASE_URL": settings.resolved_database_url, "COLUMNS": "300", **bob}
        result = CliRunner().invoke(
            app, ["--data-dir", str(settings.data_dir), "withdraw", "approve", *args], env=env
        )
        return result.exit_code, " ".join(result.output.split())

    status, out = kinko(wd.id, "--totp", "123456", "--assertion", str(tmp_path), totp_on=True)
    assert status == 2 and "exactly one of --assertion or --totp" in out
    status, out = kinko(wd.id, "--totp", code(ex, secret), totp_on=False)
    assert status == 1 and "allow_totp_approvals" in out
    status, out = kinko(wd.id, "--totp", code(ex, secret), totp_on=True)
    assert status == 0, out
    assert "totp_server_attested" in out


def test_wrong_codes_are_throttled(exchange: Exchange) -> None:
    ex = exchange
    configure(ex, totp=True, weak=True)
    secret = enrol_totp(ex, "bob")
    wd = pending(ex, "k-throttle")
    good = code(ex, secret)
    wrong = f"{(int(good) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(ApprovalError) as refused:
            ex.approvals.approve_totp(wd.id, approver=ex.user("bob"), code=wrong)
        assert refused.value.code == "totp_invalid"
    with pytest.raises(ApprovalError, match="locked out") as locked:
        ex.approvals.approve_totp(wd.id, approver=ex.user("bob"), code=good)
    assert locked.value.code == "totp_locked_out"
    assert ex.withdrawals.get(wd.id).approvals == ()
