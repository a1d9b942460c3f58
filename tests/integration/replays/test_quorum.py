"""Ronin 2022 against Kinko: the nine validators' key shares and Axie DAO's allowance go
through the key inventory's four-eyes proposals; the allowance as given (ended December
2021) is refused as past its end, the allowance as it stood (never revoked) is refused
because Sky Mavis would reach the 5-of-9 quorum on its own; the thief holding Sky Mavis's
keys reaches 4 of 5 and nothing leaves the bridge: stopped (on both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kinko.custody.delegations import delegations
from kinko.replays.bench import Bench
from kinko.replays.model import Outcome
from kinko.replays.quorum import BRIDGE
from kinko.replays.reading import ATTACKER
from kinko.replays.runner import replay
from kinko.store.tables.custody import KeyShareRow
from kinko.store.tables.identity import ProposalRow

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_ronin_quorum_within_one_organisations_reach_is_refused(bench: Bench) -> None:
    thief_before = bench.balance(ATTACKER)
    result = replay("ronin-2022", bench)
    with bench.ctx.db.reading() as session:
        entities = list(
            session.execute(
                select(KeyShareRow.legal_entity).where(KeyShareRow.wallet_id == BRIDGE)
            ).scalars()
        )
        recorded = delegations(session, BRIDGE)
        approved = session.execute(
            select(ProposalRow.kind).where(ProposalRow.state == "approved")
        ).scalars()
        kinds = list(approved)
    # Registered through the real mechanism: nine approved share proposals, no delegation.
    assert kinds.count("register_key_share") == 9 and "register_delegation" not in kinds
    assert len(entities) == 9 and entities.count("Sky Mavis") == 4 and recorded == []
    assert result.outcome is Outcome.STOPPED
    assert result.loss_units == 0 and bench.balance(ATTACKER) == thief_before
    assert [c.name for c in result.controls] == [
        "custody:delegation_expired",
        "custody:quorum_within_one_entity",
    ]
    said = "\n".join(result.observations)
    assert "'Sky Mavis' would reach 5 shares" in said and "quorum is 5" in said
    assert "1 delegated by Axie DAO" in said and "past its end" in said
    assert "reaches 4 of the quorum 5" in said
