"""Separation of duties and four eyes on identity itself."""

from __future__ import annotations

import pytest

from kinko.context import Context
from kinko.core.errors import Conflict, PermissionDenied
from kinko.core.events import SecurityEvent
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.model import ProposalKind, ProposalState, RoleGrant, UserId
from kinko.identity.permissions import Role
from kinko.identity.service import IdentityService
from kinko.identity.softauthn import SoftAuthenticator
from tests.support.identity import enrol_authenticator, make_user, sign_in
from tests.support.votes import has_key, key_vote, no_step_up, remember_key


def enrol(ctx: Context, username: str, secret: str) -> None:
    """`username` enrols a software authenticator with their one-time secret."""
    key = SoftAuthenticator.generate(ctx.settings.webauthn_rp_id)
    enrol_authenticator(ctx, username, secret, key)
    with ctx.db.reading() as session:
        remember_key(ctx, IdentityService(ctx).users.require_user(session, username).id, key)


def _admins(ctx: Context) -> tuple[UserId, UserId]:
    """Two security admins, the second made through the bootstrap path, each enrolled
    with a software authenticator."""
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        root_secret = ids.bootstrap_admin(session, "root")
    enrol(ctx, "root", root_secret)
    with ctx.db.transaction() as session:
        root = ids.users.require_user(session, "root")
        second, second_secret = ids.users.add_user(session, "sec2", actor="user:" + root.id)
        proposal = ids.roles.propose(
            session,
            actor=UserId(root.id),
            kind=ProposalKind.GRANT_ROLE,
            payload={"user_id": second, "role": "security_admin"},
            reason="second admin",
        )
    assert proposal.state == ProposalState.APPROVED  # bootstrap: fewer than two admins
    enrol(ctx, "sec2", second_secret)
    return UserId(root.id), second


def _grant(ctx: Context, actor: UserId, user: UserId, role: str, **scope: list[str]) -> str:
    with ctx.db.transaction() as session:
        return (
            IdentityService(ctx)
            .roles.propose(
                session,
                actor=actor,
                kind=ProposalKind.GRANT_ROLE,
                payload={"user_id": user, "role": role, **scope},
                reason="needed",
            )
            .id
        )


def _approve(ctx: Context, actor: UserId, proposal: str) -> None:
    """`actor`'s approval with their key, or with no step-up when they have none (the
    rules refuse them first)."""
    vote = key_vote(ctx, actor, ApprovalKind.PROPOSAL, proposal) if has_key(ctx, actor) else None
    with ctx.db.transaction() as session:
        IdentityService(ctx).roles.approve(
            session, proposal, actor=actor, vote=vote or no_step_up(ctx)
        )


def test_bootstrap_admin_returns_a_one_time_secret_and_refuses_twice(ctx: Context) -> None:
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        secret = ids.bootstrap_admin(session, "root")
    assert secret.startswith("enr_")
    with pytest.raises(Conflict), ctx.db.transaction() as session:
        ids.bootstrap_admin(session, "again")


def test_privileged_grant_waits_for_a_second_admin(ctx: Context) -> None:
    root, sec2 = _admins(ctx)
    user, _ = make_user(ctx, "ann", [])
    proposal = _grant(ctx, root, user, "approver")
    with ctx.db.transaction() as session:
        assert IdentityService(ctx).roles_of(session, user) == ()
    with pytest.raises(PermissionDenied, match="four eyes") as info:
        _approve(ctx, root, proposal)
    assert info.value.code == "self_approval"
    _approve(ctx, sec2, proposal)
    with ctx.db.transaction() as session:
        assert IdentityService(ctx).roles_of(session, user) == (RoleGrant(Role.APPROVER),)
    with pytest.raises(Conflict, match="already approved"):
        _approve(ctx, sec2, proposal)


def test_non_admin_cannot_propose_or_approve(ctx: Context) -> None:
    root, _ = _admins(ctx)
    user, _ = make_user(ctx, "ann", ["requester"])
    proposal = _grant(ctx, root, user, "operator")
    with pytest.raises(PermissionDenied):
        _approve(ctx, user, proposal)
    with pytest.raises(PermissionDenied):
        _grant(ctx, user, user, "approver")


@pytest.mark.parametrize(
    ("held", "new"),
    [
        ("security_admin", "approver"),
        ("operator", "auditor"),
        ("security_admin", "auditor"),
        ("requester", "approver"),
    ],
)
def test_default_conflicts_are_refused_naming_the_pair(ctx: Context, held: str, new: str) -> None:
    root, _sec2 = _admins(ctx)
    user, _ = make_user(ctx, "ann", [held])
    with pytest.raises(PermissionDenied) as info:
        _grant(ctx, root, user, new)
    assert info.value.code == "sod_conflict"
    assert held in info.value.message and new in info.value.message


def test_requester_and_approver_on_different_wallets_is_allowed(ctx: Context) -> None:
    root, sec2 = _admins(ctx)
    user, _ = make_user(ctx, "ann", [RoleGrant(Role.REQUESTER, wallets=("hot-1",))])
    proposal = _grant(ctx, root, user, "approver", wallets=["cold-1"])
    _approve(ctx, sec2, proposal)
    with pytest.raises(PermissionDenied, match="requester"):
        _grant(ctx, root, user, "approver", wallets=["hot-1", "hot-2"])


def test_conflict_rechecked_at_approval_time(ctx: Context) -> None:
    root, sec2 = _admins(ctx)
    user, _ = make_user(ctx, "ann", [])
    first = _grant(ctx, root, user, "operator")
    second = _grant(ctx, root, user, "auditor")  # every grant is four eyes (issue 13)
    _approve(ctx, sec2, second)
    with ctx.db.transaction() as session:
        assert [g.role for g in IdentityService(ctx).roles_of(session, user)] == [Role.AUDITOR]
    with pytest.raises(PermissionDenied, match="auditor"):
        _approve(ctx, sec2, first)


def test_matrix_change_is_four_eyes_and_refuses_a_matrix_already_violated(ctx: Context) -> None:
    root, sec2 = _admins(ctx)
    ids = IdentityService(ctx)
    new_matrix = [{"roles": ["operator", "approver"], "same_scope": False}]
    with ctx.db.transaction() as session:
        proposal = ids.roles.propose(
            session,
            actor=root,
            kind=ProposalKind.SET_CONFLICTS,
            payload={"conflicts": new_matrix},
            reason="tighten",
        )
    assert proposal.state == ProposalState.PENDING
    with pytest.raises(PermissionDenied):
        _approve(ctx, root, proposal.id)
    _approve(ctx, sec2, proposal.id)
    with ctx.db.transaction() as session:
        assert ids.conflict_matrix(session).to_list() == new_matrix
    # Under the new matrix security_admin × auditor is allowed; a matrix that root+auditor
    # would violate is then refused at approval.
    user, _ = make_user(ctx, "ann", ["operator"])
    with ctx.db.transaction() as session:
        bad = ids.roles.propose(
            session,
            actor=root,
            kind=ProposalKind.SET_CONFLICTS,
            payload={"conflicts": [{"roles": ["operator", "requester"], "same_scope": False}]},
            reason="x",
        )
    ids_user = make_user(ctx, "bob", ["operator", "requester"])[0]
    with pytest.raises(Conflict, match="bob"):
        _approve(ctx, sec2, bad.id)
    assert user and ids_user


def test_empty_matrix_is_refused(ctx: Context) -> None:
    root, _ = _admins(ctx)
    from kinko.core.errors import InputError

    with pytest.raises(InputError, match="empty"), ctx.db.transaction() as session:
        IdentityService(ctx).roles.propose(
            session,
            actor=root,
            kind=ProposalKind.SET_CONFLICTS,
            payload={"conflicts": []},
            reason="open everything",
        )


def test_mfa_removal_is_four_eyes_and_emits_a_security_event(ctx: Context) -> None:
    root, sec2 = _admins(ctx)
    user, auth = make_user(ctx, "ann", ["requester"])
    assert auth is not None
    sign_in(ctx, "ann", auth)
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    ids = IdentityService(ctx)
    with ctx.db.transaction() as session:
        proposal = ids.roles.propose(
            session,
            actor=root,
            kind=ProposalKind.REMOVE_MFA,
            payload={"user_id": user, "factor": "all"},
            reason="lost key",
        )
        assert len(ids.credentials_for(session, user)) == 1
    _approve(ctx, sec2, proposal.id)
    with ctx.db.transaction() as session:
        assert ids.credentials_for(session, user) == []
    assert [(e.type, e.outcome) for e in events if e.type == "auth.mfa"] == [
        ("auth.mfa", "proposed"),
        ("auth.mfa", "approved"),
    ]
    from kinko.core.errors import AuthenticationError

    with pytest.raises(AuthenticationError):
        sign_in(ctx, "ann", auth)


def test_unsafe_direct_grant_still_enforces_sod(ctx: Context) -> None:
    with pytest.raises(PermissionDenied, match="separation of duties"):
        make_user(ctx, "ann", ["security_admin", "approver"])


def test_grant_ends_existing_sessions(ctx: Context) -> None:
    root, sec2 = _admins(ctx)
    user, auth = make_user(ctx, "ann", ["requester"])
    assert auth is not None
    cookie, _ = sign_in(ctx, "ann", auth)
    _approve(ctx, sec2, _grant(ctx, root, user, "auditor", assets=["BTC"]))
    from kinko.core.errors import AuthenticationError

    with pytest.raises(AuthenticationError), ctx.db.transaction() as session:
        IdentityService(ctx).sessions.resolve(session, cookie)
