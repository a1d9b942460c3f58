"""The replays where the thief holds a hot wallet's raw key and signs outside Kinko
(Coincheck, Upbit 2019, Upbit 2025): bounded by the hot wallet's cap, detected by the chain watcher
and frozen by the monitor within seconds of simulated chain time, on both databases."""

from __future__ import annotations

import pytest

from kinko.replays.bench import Bench
from kinko.replays.model import Outcome, Result
from kinko.replays.reading import ATTACKER
from kinko.replays.runner import replay
from kinko.replays.scenarios import HOT_CAP

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

UNEXPLAINED = "rule:kinko-hot-outflow-without-withdrawal"


def assert_bounded(bench: Bench, result: Result) -> None:
    assert result.outcome is Outcome.BOUNDED
    assert 0 < result.loss_units <= HOT_CAP
    assert bench.balance(ATTACKER) == result.loss_units  # read from the chain
    assert result.alert_after_s is not None and result.alert_after_s <= 5
    assert result.freeze_after_s is not None and result.freeze_after_s <= 5
    found = {c.name: c.audit_seqs for c in result.controls}
    assert found[UNEXPLAINED] and found["freeze:wallet"]
    # Nothing refills a frozen wallet: the rebalancing into the drained wallet is refused
    # because that wallet is frozen (its key is the thief's).
    assert result.refill_state == "denied"
    assert any(
        "refill" in o and "destination is the exchange's wallet" in o for o in result.observations
    ), result.observations


def test_coincheck_drain_is_bounded_detected_and_frozen(bench: Bench) -> None:
    result = replay("coincheck-2018", bench)
    assert_bounded(bench, result)
    assert result.loss_share < 0.001  # of the 523,000 units the thief went for


def test_upbit_2019_single_transaction_is_bounded(bench: Bench) -> None:
    result = replay("upbit-2019", bench)
    assert_bounded(bench, result)
    assert result.loss_share == pytest.approx(result.loss_units / (342_000 * 10**18))


def test_upbit_2025_weak_key_is_flagged_before_the_theft_and_a_notice_drafted(
    bench: Bench,
) -> None:
    result = replay("upbit-2025", bench)
    assert_bounded(bench, result)
    found = {c.name: c.audit_seqs for c in result.controls}
    # The nonce self-test flags the key (and the monitor alerts) before the first theft
    # transaction: every one of its entries precedes the outflow alert's.
    (flagged,) = found["custody:nonce_check.failed"]
    assert found["rule:kinko-nonce-reuse"][0] < found[UNEXPLAINED][0]
    assert flagged < found[UNEXPLAINED][0]
    assert result.weak_key is not None and result.weak_key.startswith("flagged")
    # The failed self-test froze the wallet at once, itself (the entry right after its
    # own, before the monitor's alert): an hour before the first theft transaction.
    (frozen,) = found["freeze:wallet"]
    assert flagged < frozen < found["rule:kinko-nonce-reuse"][0]
    assert "frozen at once: wallet:wal_eth_hot_capped" in result.weak_key
    assert result.freeze_after_s is not None and result.freeze_after_s <= -3600
    # The thief still drains the wallet (rotating the key is people's work), and a draft
    # notice for the regulator is saved within 60 s of the first theft transaction.
    assert found["notice:incident_draft"]
    assert result.notice_after_s is not None and result.notice_after_s <= 60
