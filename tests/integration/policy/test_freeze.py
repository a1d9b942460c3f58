"""Freezes: one person freezes at once; two distinct security admins lift."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import Conflict, InputError, NotFound, PermissionDenied
from kinko.core.events import SecurityEvent
from kinko.identity.approval_terms import ApprovalKind
from kinko.policy.freeze import FreezeService
from kinko.policy.model import FreezeScope
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.custody import WalletRow
from tests.integration.policy.support import eth_request
from tests.support.identity import make_user
from tests.support.votes import key_vote, no_step_up


@pytest.fixture
def freezes(services: Services) -> FreezeService:
    """The composition root's: lifting a freeze is an identity proposal."""
    return services.freezes


@pytest.fixture
def staff(ctx: Context) -> dict[str, str]:
    """Real users with real role grants and security keys: two security admins and an
    operator."""
    return {
        name: make_user(ctx, name, roles)[0]
        for name, roles in (
            ("sec1", ["security_admin"]),
            ("sec2", ["security_admin"]),
            ("ops", ["operator"]),
        )
    }


def test_freeze_takes_effect_at_once_is_audited_and_published(
    ctx: Context, freezes: FreezeService
) -> None:
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    with ctx.db.transaction() as s:
        record = freezes.freeze(
            s, scope=FreezeScope.WALLET, target="w_hot", reason="odd outflow", actor="u_ops"
        )
        assert events == []  # published only after commit
    assert [e.type for e in events] == ["freeze.set"]
    assert events[0].wallet == "w_hot"
    with ctx.db.transaction() as s:
        assert [f.id for f in freezes.active_freezes(s)] == [record.id]
        assert freezes.is_frozen(s, eth_request()) == [record]
        assert freezes.is_frozen(s, eth_request(wallet_id="w_other")) == []
        action = s.execute(
            select(AuditEntryRow.action).where(AuditEntryRow.subject == record.id)
        ).scalar_one()
    assert action == "freeze.set"


def test_rolled_back_freeze_is_not_published(ctx: Context, freezes: FreezeService) -> None:
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    with pytest.raises(RuntimeError), ctx.db.transaction() as s:
        freezes.freeze(s, scope=FreezeScope.ALL, target=None, reason="drill", actor="u_ops")
        raise RuntimeError("crash before commit")
    assert events == []
    with ctx.db.transaction() as s:
        assert freezes.active_freezes(s) == []


def test_freezing_twice_returns_the_same_freeze(ctx: Context, freezes: FreezeService) -> None:
    with ctx.db.transaction() as s:
        first = freezes.freeze(s, scope=FreezeScope.CHAIN, target="ethereum", reason="a", actor="x")
        again = freezes.freeze(s, scope=FreezeScope.CHAIN, target="ethereum", reason="b", actor="y")
        assert again.id == first.id
        assert len(freezes.active_freezes(s)) == 1


@pytest.mark.parametrize(
    ("scope", "target", "field"),
    [
        (FreezeScope.ALL, "x", "target"),
        (FreezeScope.WALLET, None, "target"),
        (FreezeScope.ASSET, "ETH", "target"),
        (FreezeScope.CHAIN, "Ethereum", "target"),
        (FreezeScope.WALLET, "w_hot", "reason"),
    ],
)
def test_bad_freeze_input_names_the_field(
    ctx: Context, freezes: FreezeService, scope: FreezeScope, target: str | None, field: str
) -> None:
    reason = "" if field == "reason" else "why"
    with ctx.db.transaction() as s, pytest.raises(InputError) as caught:
        freezes.freeze(s, scope=scope, target=target, reason=reason, actor="u_ops")
    assert caught.value.field == field


def test_unfreeze_needs_two_distinct_security_admins(
    ctx: Context, freezes: FreezeService, staff: dict[str, str]
) -> None:
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    with ctx.db.transaction() as s:
        record = freezes.freeze(s, scope=FreezeScope.ALL, target=None, reason="x", actor="u_ops")
    with ctx.db.transaction() as s, pytest.raises(PermissionDenied, match="security_admin"):
        freezes.propose_unfreeze(s, freeze_id=record.id, user_id=staff["ops"], reason="fixed")
    with ctx.db.transaction() as s:
        proposal = freezes.propose_unfreeze(
            s, freeze_id=record.id, user_id=staff["sec1"], reason="ok"
        )
    no_key = no_step_up(ctx)  # refused by the rules, before any key
    with ctx.db.transaction() as s, pytest.raises(PermissionDenied, match="cannot approve"):
        freezes.approve_unfreeze(s, proposal_id=proposal.id, user_id=staff["sec1"], vote=no_key)
    with ctx.db.transaction() as s, pytest.raises(PermissionDenied, match="security_admin"):
        freezes.approve_unfreeze(s, proposal_id=proposal.id, user_id=staff["ops"], vote=no_key)
    with ctx.db.transaction() as s, pytest.raises(PermissionDenied) as unconfirmed:
        freezes.approve_unfreeze(s, proposal_id=proposal.id, user_id=staff["sec2"], vote=no_key)
    assert unconfirmed.value.code == "step_up_required"
    vote = key_vote(ctx, staff["sec2"], ApprovalKind.PROPOSAL, proposal.id)
    with ctx.db.transaction() as s:
        assert len(freezes.active_freezes(s)) == 1  # still frozen after the refusals
        freezes.approve_unfreeze(s, proposal_id=proposal.id, user_id=staff["sec2"], vote=vote)
    with ctx.db.transaction() as s:
        assert freezes.active_freezes(s) == []
        actions = s.execute(
            select(AuditEntryRow.action)
            .where(AuditEntryRow.action.like("freeze.%"))
            .order_by(AuditEntryRow.seq)
        ).scalars()
        assert list(actions) == ["freeze.set", "freeze.released"]
    assert [(e.type, e.outcome) for e in events] == [
        ("freeze.set", "success"),
        ("freeze.release", "proposed"),  # identity's proposal, kind release_freeze
        ("admin.action", "success"),  # freeze.released: kinko-freeze-lifted
        ("freeze.release", "approved"),
        ("four_eyes.approved", "success"),
    ]
    step = events[-1].fields
    assert (step["step"], step["approver"], step["eligible_roles"]) == (
        "proposal.release_freeze",
        f"user:{staff['sec2']}",
        ["security_admin"],
    )
    with ctx.db.transaction() as s, pytest.raises(Conflict, match="already approved"):
        freezes.approve_unfreeze(s, proposal_id=proposal.id, user_id=staff["sec2"], vote=vote)


def test_unfreeze_of_unknown_freeze(
    ctx: Context, freezes: FreezeService, staff: dict[str, str]
) -> None:
    with ctx.db.transaction() as s, pytest.raises(NotFound):
        freezes.propose_unfreeze(s, freeze_id="frz_nope", user_id=staff["sec1"], reason="x")


def test_people_can_only_freeze_targets_that_exist(
    ctx: Context, freezes: FreezeService, clock: FixedClock
) -> None:
    with ctx.db.transaction() as s:
        s.add(
            WalletRow(
                id="w_hot",
                name="hot ETH",
                chain="ethereum",
                assets=["ETH"],
                tier="hot",
                owner_class="customer",
                purpose="operational",
                quorum_m=1,
                quorum_n=1,
                eligible_roles=["approver"],
                limits={},
                created_at=clock.now(),
            )
        )
    with ctx.db.transaction() as s, pytest.raises(InputError, match="no wallet 'w_hto'"):
        freezes.freeze(
            s,
            scope=FreezeScope.WALLET,
            target="w_hto",
            reason="x",
            actor="u",
            require_known_target=True,
        )
    with ctx.db.transaction() as s:
        record = freezes.freeze(
            s,
            scope=FreezeScope.WALLET,
            target="w_hot",
            reason="x",
            actor="u",
            require_known_target=True,
        )
        # automatic responses may name any id their evidence carries
        freezes.freeze(s, scope=FreezeScope.WALLET, target="w_seen_in_logs", reason="x", actor="m")
    assert record.target == "w_hot"


def test_a_freeze_is_seen_at_once_by_the_transaction_that_set_it(ctx: Context) -> None:
    # On SQLite the active freezes are read once per write transaction (nothing else can
    # commit meanwhile); setting one in that same transaction must not be missed.
    service = FreezeService(ctx)
    with ctx.db.transaction() as session:
        assert service.active_freezes(session) == []
        record = service.freeze(
            session, scope=FreezeScope.ALL, target=None, reason="drill", actor="user:u1"
        )
        assert [f.id for f in service.active_freezes(session)] == [record.id]
