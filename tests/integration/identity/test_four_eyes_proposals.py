"""Identity proposals and monitor response releases answer to the one set of four-eyes
rules (kinko.identity.four_eyes): a proposal expires, and the first voter of a release must
still be a security admin when the second votes. On both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import Conflict
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.four_eyes import PROPOSAL_LIFETIME, FourEyesConflict, Rule
from kinko.identity.model import ProposalKind, ProposalState, UserId
from kinko.identity.service import IdentityService
from kinko.services import Services
from tests.integration.identity.test_four_eyes_steps import admins, suspend
from tests.support.identity import make_user
from tests.support.votes import key_vote, no_step_up

__all__ = ["admins"]  # the fixture, shared with the freeze and address-book steps
ALMOST = PROPOSAL_LIFETIME - timedelta(seconds=1)


def _propose_grant(ctx: Context, by: UserId, to: UserId) -> str:
    with ctx.db.transaction() as s:
        return (
            IdentityService(ctx)
            .roles.propose(
                s,
                actor=by,
                kind=ProposalKind.GRANT_ROLE,
                payload={"user_id": to, "role": "approver"},
                reason="needed",
            )
            .id
        )


def test_an_identity_proposal_expires(
    ctx: Context, clock: FixedClock, admins: tuple[UserId, UserId, UserId]
) -> None:
    sec1, sec2, _ = admins
    clerk, _ = make_user(ctx, "clerk", with_authenticator=False)
    roles = IdentityService(ctx).roles
    in_time = _propose_grant(ctx, sec1, clerk)
    clock.advance(ALMOST)
    vote = key_vote(ctx, sec2, ApprovalKind.PROPOSAL, in_time)
    with ctx.db.transaction() as s:
        assert roles.approve(s, in_time, actor=sec2, vote=vote).state is ProposalState.APPROVED
    late = _propose_grant(ctx, sec1, (make_user(ctx, "dana", with_authenticator=False)[0]))
    clock.advance(PROPOSAL_LIFETIME)
    with ctx.db.transaction() as s, pytest.raises(FourEyesConflict, match="expired at") as gone:
        roles.approve(s, late, actor=sec2, vote=no_step_up(ctx))
    assert (gone.value.rule, gone.value.code, gone.value.http_status) == (
        Rule.IN_TIME,
        "proposal_expired",
        409,
    )
    with ctx.db.transaction() as s:  # nothing was granted; it can still be refused
        assert [g.role.value for g in roles.roles_of(s, clerk)] == ["approver"]
        assert roles.refuse(s, late, actor=sec2, reason="stale").state is ProposalState.REFUSED


def test_a_response_release_needs_the_first_voter_still_an_admin(
    ctx: Context, services: Services, admins: tuple[UserId, UserId, UserId]
) -> None:
    from tests.integration.monitor.test_service import hot_outflow, service

    sec1, sec2, _ = admins
    (applied,) = service(ctx).ingest([hot_outflow()])
    triage = services.triage
    vote = key_vote(ctx, sec1, ApprovalKind.RESPONSE_RELEASE, applied.response_id)
    with ctx.db.transaction() as s:
        first = triage.vote_release(s, applied.response_id, actor=sec1, reason="ok", vote=vote)
        assert not first.released
    suspend(ctx, sec1)
    with ctx.db.transaction() as s, pytest.raises(Conflict) as gone:
        triage.vote_release(s, applied.response_id, actor=sec2, reason="ok", vote=no_step_up(ctx))
    assert gone.value.code == "proposer_ineligible"
