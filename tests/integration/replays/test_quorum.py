"""Ronin 2022 against Kinko, as it is today: the key inventory accepts a 5-of-9 quorum
five of whose shares one organisation reaches, and records no delegation to refuse; the
holder of the quorum signs outside Kinko; the watcher and the monitor detect and freeze
within seconds, but the loss is not bounded (on both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kinko.replays.bench import Bench
from kinko.replays.model import Outcome
from kinko.replays.quorum import BRIDGE
from kinko.replays.reading import ATTACKER
from kinko.replays.runner import replay
from kinko.store.tables.custody import KeyShareRow

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_ronin_quorum_in_one_organisations_reach_is_accepted_then_detected(bench: Bench) -> None:
    result = replay("ronin-2022", bench)
    with bench.ctx.db.reading() as session:
        shares = session.execute(
            select(func.count()).select_from(KeyShareRow).where(KeyShareRow.wallet_id == BRIDGE)
        ).scalar_one()
        entities = session.execute(
            select(KeyShareRow.legal_entity).where(KeyShareRow.wallet_id == BRIDGE)
        ).scalars()
        sky_mavis = sum(1 for e in entities if e == "Sky Mavis")
    assert shares == 9 and sky_mavis == 4  # the gap: nothing refused (see the scenario)
    assert result.outcome is Outcome.NOT_STOPPED
    assert result.loss_units == bench.balance(ATTACKER) > 173_599 * 10**18
    found = {c.name: c.audit_seqs for c in result.controls}
    assert found["rule:kinko-outflow-sum-over-cap-eth"] and found["freeze:wallet"]
    assert result.alert_after_s is not None and result.alert_after_s <= 5
    assert result.freeze_after_s is not None and result.freeze_after_s <= 5
