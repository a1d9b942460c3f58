"""Where the dashboard sends a person to vote on a proposal: a response's release to its
own page (its route takes the reason and checks the response's scope), any other
proposal to the proposals' page."""

from __future__ import annotations

from datetime import UTC, datetime

from kinko.identity.model import ProposalId, ProposalKind, ProposalState, UserId
from kinko.identity.proposals import Proposal
from kinko.web.dashboard_data import vote_page


def proposal(kind: ProposalKind, payload: dict[str, str]) -> Proposal:
    return Proposal(
        ProposalId("prp_1"),
        kind,
        payload,
        UserId("usr_a"),
        ProposalState.PENDING,
        "why",
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
    )


def test_a_release_goes_to_its_own_page_and_others_to_the_proposals() -> None:
    release = proposal(ProposalKind.RELEASE_RESPONSE, {"response_id": "rsp_9"})
    assert vote_page(release) == "/console/approvals/response-release/rsp_9"
    grant = proposal(ProposalKind.GRANT_ROLE, {"user_id": "usr_b", "role": "approver"})
    assert vote_page(grant) == "/console/approvals/proposal/prp_1"
