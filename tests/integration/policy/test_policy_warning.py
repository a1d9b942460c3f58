"""Without ``policy_path`` Kinko decides with the packaged sample policy and says so, but
only where a decision needs the policy: listing withdrawals or address-book entries reads
no policy and warns about none."""

from __future__ import annotations

import structlog

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.custody.model import Tier
from kinko.identity.step_ups import UNSAFE_NO_STEP_UP
from kinko.policy.model import OwnerKind
from kinko.policy.service import PolicyService
from tests.integration.policy.support import COLD_ADDR


def _warnings(logs: list[dict[str, object]]) -> list[object]:
    return [e["event"] for e in logs if "policy_path" in str(e["event"])]


def test_listing_reads_no_policy_and_deciding_warns_once(ctx: Context, clock: FixedClock) -> None:
    assert ctx.settings.policy_path is None
    with structlog.testing.capture_logs() as logs:
        service = PolicyService(ctx)
        with ctx.db.transaction() as s:
            proposal = service.addresses.propose(
                s,
                chain="ethereum",
                address=COLD_ADDR,
                label="cold",
                owner_kind=OwnerKind.OWN_WALLET,
                tiers_allowed=[Tier.COLD],
                actor="u_alice",
            )
            assert service.addresses.entries(s) == []
            assert service.freezes.active_freezes(s) == []
    assert _warnings(logs) == []

    with structlog.testing.capture_logs() as logs:
        with ctx.db.transaction() as s:
            entry = service.addresses.approve(
                s, proposal_id=proposal.id, actor="u_bob", vote=UNSAFE_NO_STEP_UP
            )
        assert service.policy.version == service.policy.version  # read once, kept
    assert len(_warnings(logs)) == 1
    assert "KINKO_POLICY_PATH" in str(_warnings(logs)[0])
    # the sample policy's cold cooling-off applied
    assert entry.effective_at == clock.now() + service.cooling_off[Tier.COLD]
