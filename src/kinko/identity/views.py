"""Request bodies and response renderings for the identity API (no I/O)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kinko.identity.proposals import Proposal
from kinko.identity.tokens import TokenInfo
from kinko.identity.users import User


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UsernameBody(Body):
    username: str = Field(min_length=1, max_length=64)


class WebAuthnFinish(Body):
    challenge_id: str = Field(min_length=1, max_length=64)
    credential: dict[str, Any]


class CodeLogin(Body):
    username: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)


class EnrolBegin(Body):
    username: str = Field(min_length=1, max_length=64)
    enrolment_secret: str = Field(min_length=1, max_length=200)


class EnrolFinish(EnrolBegin):
    challenge_id: str = Field(min_length=1, max_length=64)
    credential: dict[str, Any]


class NewUser(Body):
    username: str = Field(min_length=1, max_length=64)
    display_name: str = Field(default="", max_length=200)


class Reason(Body):
    reason: str = Field(min_length=1, max_length=500)


class NewProposal(Body):
    kind: Literal["grant_role", "remove_mfa", "set_conflicts"]
    reason: str = Field(min_length=1, max_length=500)
    user_id: str | None = None
    role: str | None = None
    assets: list[str] = Field(default_factory=list)
    wallets: list[str] = Field(default_factory=list)
    factor: str = "all"
    conflicts: list[dict[str, Any]] | None = None


class Revoke(Reason):
    user_id: str
    role: str


class StepUpBody(Body):
    """A fresh WebAuthn assertion over a challenge from ``POST /v1/auth/step-up/begin``."""

    challenge_id: str = Field(min_length=1, max_length=64)
    credential: dict[str, Any]


class TokenTermsBody(Body):
    """A token's terms, as a step-up commits to them (your own token)."""

    name: str = Field(min_length=1, max_length=200)
    permissions: list[str]
    assets: list[str] = Field(default_factory=list)
    ip_allowlist: list[str] = Field(default_factory=list)
    ttl_days: int = Field(default=90, ge=1, le=365)


class ApprovalRef(Body):
    """A four-eyes vote a step-up is for (`kinko.identity.approval_terms.ApprovalKind`)."""

    kind: Literal["proposal", "response_release"]
    subject: str = Field(min_length=1, max_length=64, description="the proposal's id")


class StepUpBegin(Body):
    """``POST /v1/auth/step-up/begin``: the act a step-up is for, exactly: a new token of
    yours (``create_token`` with `token`) or your vote on a four-eyes step (``approve``
    with `approval`)."""

    purpose: Literal["create_token", "approve"] = "create_token"
    token: TokenTermsBody | None = None
    approval: ApprovalRef | None = None


class SecondVote(Body):
    """The body of a four-eyes approval: the approver's fresh assertion over a challenge
    from ``POST /v1/auth/step-up/begin`` (purpose ``approve``) bound to this vote."""

    step_up: StepUpBody | None = None


class NewToken(Body):
    name: str = Field(min_length=1, max_length=200)
    permissions: list[str]
    owner_id: str | None = Field(
        default=None,
        description="omit for your own token; a service account's id to propose one "
        "(four eyes: a second security_admin approves)",
    )
    assets: list[str] = Field(default_factory=list)
    ip_allowlist: list[str] = Field(default_factory=list)
    ttl_days: int = Field(default=90, ge=1, le=365)
    step_up: StepUpBody | None = Field(
        default=None, description="needed for your own token with a privileged permission"
    )
    reason: str = Field(default="service account token", min_length=1, max_length=500)


def render_user(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "state": u.state.value,
        "created_at": u.created_at.isoformat(),
    }


def render_proposal(p: Proposal) -> dict[str, Any]:
    return {
        "id": p.id,
        "kind": p.kind.value,
        "payload": p.payload,
        "proposer_id": p.proposer_id,
        "state": p.state.value,
        "reason": p.reason,
        "decided_by": p.decided_by,
        "expires_at": p.expires_at.isoformat() if p.expires_at else None,
    }


def render_token(t: TokenInfo) -> dict[str, Any]:
    return {
        "id": t.id,
        "owner_id": t.owner_id,
        "name": t.name,
        "permissions": list(t.permissions),
        "assets": list(t.assets),
        "ip_allowlist": list(t.ip_allowlist),
        "expires_at": t.expires_at.isoformat(),
        "revoked": t.revoked_at is not None,
        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
        "last_used_ip": t.last_used_ip,
    }
