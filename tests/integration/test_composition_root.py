"""The composition root (kinko.services): every service built once and wired to the others,
nothing found by name or registered by importing a module; what is not wired fails closed.
On both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kinko.audit.note import generate_signer
from kinko.chains.bitcoin.adapter import BitcoinAdapter
from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.context import Context
from kinko.core.errors import InputError, Unavailable
from kinko.core.secretfile import write_secret_file
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.model import ProposalKind, ProposalState, UserId, UserState
from kinko.identity.service import IdentityService
from kinko.monitor.actions import KinkoActions, privileged_by
from kinko.monitor.response_spec import Scope
from kinko.policy.loader import default_policy
from kinko.policy.proposals import describe
from kinko.server import create_app
from kinko.services import Services
from kinko.store.tables.identity import UserRow
from kinko.withdrawals.bitcoin import BitcoinGateway
from kinko.withdrawals.stack import signing_adapters
from kinko.withdrawals.wiring import ChainRouter, EthereumGateway
from tests.support.identity import make_user
from tests.support.votes import key_vote


def test_each_service_is_built_once_and_shared(ctx: Context, services: Services) -> None:
    key = ctx.settings.resolved_audit_key_path  # the withdrawal services read it
    write_secret_file(key, generate_signer(ctx.settings.audit_origin)[0].encode())
    assert services.policy.freezes is services.freezes
    assert services.policy.addresses is services.address_book
    assert services.withdrawal_stack() is services.withdrawal_stack()
    stack = services.withdrawal_stack()
    assert stack.ports.screener is services.screening
    assert stack.ports.policy is services.policy
    assert stack.ports.directory.identity is services.identity  # type: ignore[attr-defined]
    assert stack.ports.freezes.service is services.freezes  # type: ignore[attr-defined]


def test_identitys_parts_are_built_once_and_handed_to_each_other(services: Services) -> None:
    ids = services.identity
    assert ids.roles.users is ids.users and ids.roles.tokens is ids.tokens
    assert ids.roles.mfa is ids.mfa and ids.users.mfa is ids.mfa and ids.tokens.mfa is ids.mfa
    assert ids.roles.sessions is ids.sessions and ids.mfa.sessions is ids.sessions
    assert ids.users.sessions is ids.sessions
    assert (ids.login.mfa, ids.login.sessions) == (ids.mfa, ids.sessions)
    # ... and, by the root, to what sits beside identity
    assert services.step_ups.mfa is ids.mfa and services.token_requests.issuer is ids.tokens
    assert services.device_logins.mfa is ids.mfa
    assert services.device_logins.sessions is ids.sessions


def test_the_app_serves_the_services_it_is_given(ctx: Context, services: Services) -> None:
    assert create_app(ctx, services=services).state.services is services
    assert isinstance(create_app(ctx).state.services, Services)  # else its own, built once


def _admins(ctx: Context) -> tuple[UserId, UserId]:
    ada = make_user(ctx, "ada", ["security_admin"], with_authenticator=False)[0]
    bob = make_user(ctx, "bob", ["security_admin"])[0]
    return ada, bob


def test_identity_gets_the_other_domains_proposal_handlers(
    ctx: Context, services: Services
) -> None:
    """A policy activation is proposed and approved through identity, which imports no
    policy code: the root handed it policy's handler."""
    ada, bob = _admins(ctx)
    with ctx.db.transaction() as session:
        payload = describe(ctx, session, default_policy())
        proposal = services.identity.roles.propose(
            session, actor=ada, kind=ProposalKind.ACTIVATE_POLICY, payload=payload, reason="r"
        )
    vote = key_vote(ctx, bob, ApprovalKind.PROPOSAL, proposal.id)
    with ctx.db.transaction() as session:
        done = services.identity.roles.approve(session, proposal.id, actor=bob, vote=vote)
    assert done.state is ProposalState.APPROVED


def test_an_identity_built_without_handlers_refuses_their_kinds(ctx: Context) -> None:
    ada, _ = _admins(ctx)
    alone = IdentityService(ctx)  # not from the root: nobody gave it policy's handler
    with ctx.db.transaction() as session:
        payload = describe(ctx, session, default_policy())
        with pytest.raises(Unavailable, match="activate_policy proposals are not wired"):
            alone.roles.propose(
                session, actor=ada, kind=ProposalKind.ACTIVATE_POLICY, payload=payload, reason="r"
            )


def test_the_monitor_acts_through_the_roots_services(ctx: Context, services: Services) -> None:
    ada, _ = _admins(ctx)
    clerk = str(make_user(ctx, "clerk", ["requester"], with_authenticator=False)[0])
    actions = services.monitor_hands.actions
    with ctx.db.transaction() as session:
        actions.lock_account(session, user=f"user:{clerk}", reason="drill", actor="monitor")
        freeze = actions.freeze(
            session, scope=Scope.ALL, target=None, reason="drill", actor="monitor"
        )
    with ctx.db.transaction() as session:
        assert session.get(UserRow, clerk).state == UserState.SUSPENDED.value  # type: ignore[union-attr]
        assert freeze in {str(f.id) for f in services.freezes.active_freezes(session)}
        actions.unlock_account(session, user=clerk, reason="drill over", actor=f"user:{ada}")
    with ctx.db.transaction() as session:
        state = session.execute(select(UserRow.state).where(UserRow.id == clerk)).scalar_one()
    assert state == UserState.ACTIVE.value
    privileged = services.monitor_hands.roles_of
    assert privileged is not None
    with ctx.db.transaction() as session:
        assert privileged_by(privileged)(session, f"user:{ada}")
        assert not privileged_by(privileged)(session, clerk)


def test_a_monitor_nobody_wired_fails_closed(ctx: Context) -> None:
    """Each response whose collaborator is missing raises `Unavailable` (recorded failed),
    and without a role lookup everyone counts as privileged."""
    actions = KinkoActions()
    with ctx.db.transaction() as session:
        for act in (
            lambda: actions.lock_account(session, user="u", reason="r", actor="m"),
            lambda: actions.unlock_account(session, user="u", reason="r", actor="m"),
            lambda: actions.require_step_up(session, user="u", reason="r", actor="m"),
            lambda: actions.freeze(session, scope=Scope.ALL, target=None, reason="r", actor="m"),
            lambda: actions.unfreeze(
                session, ref="f", proposer="a", approver="b", reason="r", released="rsp"
            ),
        ):
            with pytest.raises(Unavailable):
                act()
        assert privileged_by(None)(session, "anyone")
    with pytest.raises(Unavailable):
        actions.hold_withdrawal(withdrawal_id="wd", reason="r", actor="m")


def test_the_signer_gets_the_adapter_of_the_bundles_chain() -> None:
    adapter_for = signing_adapters(
        ChainRouter({"ethereum": EthereumGateway(None), "bitcoin": BitcoinGateway()})
    )
    assert isinstance(adapter_for("bitcoin", "regtest"), BitcoinAdapter)
    assert isinstance(adapter_for("ethereum", "sepolia"), EthereumAdapter)
    with pytest.raises(InputError, match="solana"):
        adapter_for("solana", "mainnet")
