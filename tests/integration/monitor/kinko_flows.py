"""Real Kinko actions for the monitor's tests: each drives the service the API and CLI
call, so its security events reach the bus exactly as Kinko emits them.

Used by `test_insider_rules` (each default rule fires on Kinko's own events) and by
`test_pack_fields` (every field the default pack tests is one Kinko emits).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from kinko.chains.base import EcdsaSignature
from kinko.context import Context
from kinko.core.events import SecurityEvent
from kinko.custody import keys
from kinko.custody.keys import KeyStatus, NewKeyShare
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.model import ProposalKind, ProposalState, UserId
from kinko.policy.loader import load_policy
from kinko.policy.model import FreezeScope, OwnerKind
from kinko.store.tables.monitor import ResponseRow
from tests.integration.policy.support import HOT_POLICY
from tests.support.addressbook import approve_entry, propose_entry
from tests.support.identity import bearer, make_user, owned_token
from tests.support.services import services_of
from tests.support.votes import key_vote

FIXTURES = Path(__file__).parents[2] / "fixtures" / "screening"
CEREMONY = {
    "performed_at": "2026-11-01T10:00:00Z",
    "witnesses": ["u-aud", "u-ciso"],
    "procedure": "KGC-7 rev 3",
    "video": "vault://ceremony/2026-11-01",
}


@dataclass(frozen=True)
class Admins:
    """Three active security admins, each with a security key (their votes are step-ups
    bound to the vote, `key_vote`): four eyes never leave fewer than two."""

    first: UserId
    second: UserId
    third: UserId


def admins(ctx: Context) -> Admins:
    ids = [make_user(ctx, f"sec{i}", ["security_admin"])[0] for i in (1, 2, 3)]
    return Admins(*ids)


def propose_and_approve(
    ctx: Context, staff: Admins, kind: ProposalKind, payload: dict[str, object], reason: str
) -> None:
    services = services_of(ctx)
    roles = services.identity.roles
    with ctx.db.transaction() as session:
        proposal = roles.propose(
            session, actor=staff.first, kind=kind, payload=payload, reason=reason
        )
    if proposal.state is ProposalState.PENDING:  # else it applied at once (not privileged)
        vote = key_vote(ctx, staff.second, ApprovalKind.PROPOSAL, proposal.id)
        with ctx.db.transaction() as session:
            roles.approve(session, proposal.id, actor=staff.second, vote=vote)


def grant_privileged_role(ctx: Context, staff: Admins, username: str = "newbie") -> UserId:
    person, _ = make_user(ctx, username, with_authenticator=False)
    propose_and_approve(
        ctx, staff, ProposalKind.GRANT_ROLE, {"user_id": person, "role": "approver"}, "new approver"
    )
    return person


def grant_requester_role(ctx: Context, staff: Admins) -> UserId:
    services = services_of(ctx)
    person, _ = make_user(ctx, "clerk", with_authenticator=False)
    roles = services.identity.roles
    with ctx.db.transaction() as session:  # not privileged: applies at once
        roles.propose(
            session,
            actor=staff.first,
            kind=ProposalKind.GRANT_ROLE,
            payload={"user_id": person, "role": "requester"},
            reason="new requester",
        )
    return person


def suspend(ctx: Context, staff: Admins, person: UserId) -> None:
    propose_and_approve(
        ctx,
        staff,
        ProposalKind.SET_USER_STATE,
        {"user_id": person, "state": "suspended"},
        "left the company",
    )


def remove_factors(ctx: Context, staff: Admins, person: UserId) -> None:
    propose_and_approve(
        ctx, staff, ProposalKind.REMOVE_MFA, {"user_id": person, "factor": "all"}, "lost key"
    )


def weaken_policy(ctx: Context) -> None:
    """A new policy version with a higher limit and fewer approvals in force."""
    policy = services_of(ctx).policy
    looser = HOT_POLICY.replace('version: "it-1"', 'version: "it-2"')
    looser = looser.replace("limit: 1000", "limit: 5000").replace("approvals: 2", "approvals: 1")
    with ctx.db.transaction() as session:
        policy.deciding_with(load_policy(HOT_POLICY, source="v1")).record_version(session)
    with ctx.db.transaction() as session:
        policy.deciding_with(load_policy(looser, source="v2")).record_version(session)


def approve_configured_policy(ctx: Context, staff: Admins) -> None:
    """Two admins approve the policy this process is configured with (the packaged sample
    here), so that it may take over from one given in code (kinko.policy.proposals)."""
    from kinko.policy.proposals import describe
    from kinko.policy.service import configured_policy

    with ctx.db.reading() as session:
        payload = describe(ctx, session, configured_policy(ctx))
    propose_and_approve(ctx, staff, ProposalKind.ACTIVATE_POLICY, payload, "back to the sample")


def fake_ofac_csv(path: Path, rows: int = 25) -> Path:
    lines = ["list,entity_name,chain,address,source_ref,listed_on"]
    for i in range(rows):
        address = "0x" + hashlib.sha256(f"decoy {i}".encode()).hexdigest()[:40]
        lines.append(f"ofac-sdn,Decoy {i},ethereum,{address},decoy-{i},2024-05-01")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def replace_list(ctx: Context, staff: Admins, tmp_path: Path) -> None:
    """The OFAC XML, then a Kinko CSV claiming to be ofac-sdn, proposed and approved."""
    services = services_of(ctx)
    service = services.screening
    service.load_file(FIXTURES / "sdn_advanced_excerpt.xml", actor="system:setup")
    result = service.load_file(
        fake_ofac_csv(tmp_path / "ofac.csv"), actor=f"user:{staff.first}", proposer=staff.first
    )
    proposal_id = result.proposed[0].proposal_id
    vote = key_vote(ctx, staff.second, ApprovalKind.PROPOSAL, proposal_id)
    with ctx.db.transaction() as session:
        services.identity.roles.approve(session, proposal_id, actor=staff.second, vote=vote)


def update_list(ctx: Context) -> None:
    """A routine load: the same format and publisher, nothing dropped."""
    services = services_of(ctx)
    services.screening.load_file(FIXTURES / "kinko_lists_synthetic.csv", actor="cli:ops")


def _service_token(
    ctx: Context, staff: Admins, username: str, role: str, name: str, permission: str, reason: str
) -> None:
    """A service account's token, by a create_token proposal a second admin approves."""
    services = services_of(ctx)
    robot, _ = make_user(ctx, username, [role], with_authenticator=False)
    with ctx.db.transaction() as session:
        identity = services.identity
        terms = identity.tokens.terms(session, owner_id=robot, name=name, permissions=[permission])
        proposal, _, _ = identity.propose_service_token(
            session, terms, actor=staff.first, reason=reason
        )
    vote = key_vote(ctx, staff.second, ApprovalKind.PROPOSAL, proposal.id)
    with ctx.db.transaction() as session:
        services.identity.roles.approve(session, proposal.id, actor=staff.second, vote=vote)


def privileged_service_token(ctx: Context, staff: Admins) -> None:
    """A service account's token that can approve withdrawals."""
    _service_token(
        ctx, staff, "robot", "approver", "approval robot", "withdrawals:approve", "batch approvals"
    )


def reader_service_token(ctx: Context, staff: Admins) -> None:
    _service_token(ctx, staff, "reader", "auditor", "report robot", "custody:read", "reports")


def lift_freeze(ctx: Context, staff: Admins) -> None:
    services = services_of(ctx)
    freezes = services.freezes
    with ctx.db.transaction() as session:
        frozen = freezes.freeze(
            session, scope=FreezeScope.ALL, target=None, reason="drill", actor=f"user:{staff.first}"
        )
    with ctx.db.transaction() as session:
        proposal = freezes.propose_unfreeze(
            session, freeze_id=frozen.id, user_id=staff.first, reason="drill over"
        )
    vote = key_vote(ctx, staff.second, ApprovalKind.PROPOSAL, proposal.id)
    with ctx.db.transaction() as session:
        freezes.approve_unfreeze(session, proposal_id=proposal.id, user_id=staff.second, vote=vote)


def release_a_lock(ctx: Context, staff: Admins) -> None:
    """Five MFA failures then a success for a clerk, on the bus: the monitor listening
    (`start_monitor`) locks the clerk; two security admins release the lock (four eyes:
    `staff.first` votes, `staff.second` releases)."""
    services = services_of(ctx)
    clerk, _ = make_user(ctx, "locked-clerk", ["requester"], with_authenticator=False)
    now = ctx.clock.now()
    ctx.bus.publish_all(
        [
            SecurityEvent(
                type="auth.mfa",
                time=now + timedelta(seconds=10 * i),
                actor=f"user:{clerk}",
                outcome="success" if i == 5 else "failure",
            )
            for i in range(6)
        ]
    )
    with ctx.db.reading() as session:
        response = session.execute(
            select(ResponseRow.id).where(
                ResponseRow.action == "lock_account", ResponseRow.status == "applied"
            )
        ).scalar_one()
    triage = services.triage
    for admin in (staff.first, staff.second):
        vote = key_vote(ctx, admin, ApprovalKind.RESPONSE_RELEASE, response)
        with ctx.db.transaction() as session:
            triage.vote_release(
                session, response, actor=admin, reason="the clerk was travelling", vote=vote
            )


def approve_address(ctx: Context, proposer: UserId, approver: UserId) -> None:
    """An address-book entry proposed by `proposer` and approved by `approver` (who votes
    with their security key)."""
    proposal = propose_entry(
        ctx,
        "0x" + "cd" * 20,
        label="customer 7",
        owner_kind=OwnerKind.CUSTOMER_VERIFIED,
        proposer=proposer,
    )
    approve_entry(ctx, proposal, approver=approver, with_key=True)


def mark_key_compromised(ctx: Context, wallet_id: str, holder: UserId) -> None:
    """What `kinko custody keys compromised` does: the status; its event follows the commit."""
    with ctx.db.transaction() as session:
        share = keys.unsafe_register_share(
            ctx,
            session,
            NewKeyShare(
                wallet_id, holder, "yubi-1", "tokyo-dc1", "Kinko KK", "02" + "11" * 32, CEREMONY
            ),
            actor="user:custodian",
        )
    with ctx.db.transaction() as session:
        keys.set_status(
            ctx, session, share, KeyStatus.COMPROMISED, reason="laptop stolen", actor="cli:ops"
        )


def refused_step(ctx: Context, staff: Admins) -> None:
    """One admin's API token asks to suspend another admin: refused through the real API
    (a token never changes identity), which tells the monitor (``authz.refused``)."""
    from fastapi.testclient import TestClient

    from kinko.server import create_app

    token = owned_token(ctx, staff.first, ["users:write"])
    api = TestClient(create_app(ctx), base_url="https://testserver", client=("192.0.2.9", 1))
    refused = api.post(
        f"/v1/users/{staff.second}/suspend", json={"reason": "x"}, headers=bearer(token)
    )
    assert (refused.status_code, refused.json()["error"]) == (403, "person_required")


def reuse_a_nonce(ctx: Context) -> None:
    """Two signatures of one key with the same r, recorded, then the self-test."""
    public_key = bytes.fromhex("03" + "22" * 32)
    signatures = [
        EcdsaSignature(public_key, 0x1234, 0x5678 + i, hashlib.sha256(bytes([i])).digest())
        for i in range(2)
    ]
    with ctx.db.transaction() as session:
        keys.record_signatures(ctx, session, "ethereum", "0xabc", signatures)
    report = services_of(ctx).nonce_check("cli:ops")  # a failure freezes at once
    assert not report.passed
