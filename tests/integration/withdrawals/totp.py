"""TOTP approvals in tests: switch the settings, enrol a real TOTP factor, make codes."""

from __future__ import annotations

import json

import pyotp

from kinko.identity.model import UserId
from kinko.identity.service import IdentityService
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.service import WithdrawalRequest
from tests.integration.withdrawals.exchange import RECIPIENT, Exchange


def configure(ex: Exchange, *, totp: bool, weak: bool) -> None:
    """Services share the context: replacing its settings reconfigures all of them."""
    ex.ctx.settings = ex.ctx.settings.model_copy(
        update={"allow_totp_approvals": totp, "allow_weak_mfa_for_privileged": weak}
    )


def enrol_totp(ex: Exchange, name: str) -> str:
    """Enrol a TOTP factor for `name` through the identity service; its base32 secret."""
    with ex.ctx.db.transaction() as session:
        _, secret, _ = IdentityService(ex.ctx).mfa.enroll_totp(
            session, UserId(ex.user(name)), actor="system:test"
        )
    return secret


def code(ex: Exchange, secret: str) -> str:
    return pyotp.TOTP(secret).at(ex.ctx.clock.now())


def pending(ex: Exchange, key: str) -> WithdrawalView:
    wd = ex.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount="2", destination=RECIPIENT),
        requester=ex.user("alice"),
        idempotency_key=key,
        channel="api",
    )
    assert wd.digest is not None
    return wd


def approval_entries(ex: Exchange, withdrawal_id: str) -> list[dict[str, object]]:
    """The `withdrawal.approval` audit entries' details for one withdrawal."""
    out = []
    with ex.ctx.db.transaction() as session:
        for seq in range(ex.ctx.audit.size(session)):
            entry = json.loads(ex.ctx.audit.entry(session, seq).entry)
            if entry["action"] == "withdrawal.approval" and entry["subject"] == withdrawal_id:
                out.append(entry["details"])
    return out
