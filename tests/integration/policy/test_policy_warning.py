"""Without ``policy_path`` Kinko decides with the packaged sample policy and says so, but
only where a decision needs the policy: listing withdrawals or address-book entries reads
no policy and warns about none."""

from __future__ import annotations

import structlog

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.custody.model import Tier
from tests.integration.policy.support import COLD_ADDR
from tests.support.addressbook import approve_entry, propose_entry
from tests.support.services import services_of


def _warnings(logs: list[dict[str, object]]) -> list[object]:
    return [e["event"] for e in logs if "policy_path" in str(e["event"])]


def test_listing_reads_no_policy_and_deciding_warns_once(ctx: Context, clock: FixedClock) -> None:
    assert ctx.settings.policy_path is None
    with structlog.testing.capture_logs() as logs:
        service = services_of(ctx).policy
        proposal = propose_entry(ctx, COLD_ADDR, label="cold", tiers=[Tier.COLD])
        with ctx.db.transaction() as s:
            assert service.addresses.entries(s) == []
            assert service.freezes.active_freezes(s) == []
    assert _warnings(logs) == []

    with structlog.testing.capture_logs() as logs:
        entry = approve_entry(ctx, proposal)
        assert service.policy.version == service.policy.version  # read once, kept
    assert len(_warnings(logs)) == 1
    assert "KINKO_POLICY_PATH" in str(_warnings(logs)[0])
    # the sample policy's cold cooling-off applied
    assert entry.effective_at == clock.now() + service.cooling_off[Tier.COLD]
