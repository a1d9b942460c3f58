"""A new list version holds pending withdrawals whose destination it names."""

from __future__ import annotations

import pytest

from kinko.context import build_context
from kinko.core.errors import Conflict, KinkoError
from kinko.screening.service import ScreeningService
from kinko.withdrawals.rescreen import pending_destinations
from kinko.withdrawals.service import WithdrawalRequest, WithdrawalService
from kinko.withdrawals.states import State
from tests.integration.withdrawals.exchange import LIST_CSV, RECIPIENT, SCREENING, Exchange

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
OTHER = "0x" + "77" * 20


def test_new_list_version_holds_pending_withdrawals_that_hit(exchange: Exchange) -> None:
    ex = exchange
    stack = ex.services.withdrawal_stack()  # the root armed the re-screen holds

    def request(destination: str, amount: str, key: str) -> str:
        view = stack.withdrawals.request(
            WithdrawalRequest(asset="ETH", amount=amount, destination=destination),
            requester=ex.user("alice"),
            idempotency_key=key,
            channel="api",
        )
        return view.id

    sent = request(RECIPIENT, "0.1", "k-rs-sent")  # first: account nonces are sequential
    assert stack.execute(sent).state is State.BROADCAST
    pending = request(RECIPIENT, "2", "k-rs-pending")
    elsewhere = request(OTHER, "2", "k-rs-other")
    with ex.ctx.db.transaction() as session:
        targets = {t.ref: t for t in pending_destinations(session)}
    assert set(targets) == {pending, elsewhere}  # a signed withdrawal is not re-screened
    assert targets[pending].address == RECIPIENT

    path = ex.ctx.settings.data_dir / "stolen-funds-v2.csv"
    path.write_text(
        LIST_CSV + f"stolen-funds,Newly listed mule,ethereum,{RECIPIENT},case 42,2026-01-01\n",
        encoding="utf-8",
    )
    result = ex.screener.load_file(path, actor="system:test")
    assert {a.target_ref for a in result.alerts} == {pending}

    held = stack.withdrawals.get(pending)
    assert held.state is State.HELD
    assert held.reason is not None and "re-screened" in held.reason
    assert stack.withdrawals.get(elsewhere).state is State.PENDING_APPROVAL
    assert stack.withdrawals.get(sent).state is State.BROADCAST
    # Releasing the hold screens again: now a hit, so it is denied.
    released = stack.withdrawals.release_hold(pending, actor=ex.user("dave"), reason="checked")
    assert released.state is State.DENIED
    with pytest.raises(KinkoError):
        stack.execute(pending)


def test_approved_withdrawal_with_a_screening_alert_is_never_signed(exchange: Exchange) -> None:
    """The list is loaded where no hold is armed (a process whose bus nobody holds on): the
    executor itself refuses to sign a withdrawal that re-screening flagged."""
    ex = exchange
    # Requested where it could not be executed at once (no executor: as when the node is
    # down), so it waits, approved and unsigned.
    waiting = WithdrawalService(ex.ctx, ex.withdrawals.ports)
    wd = waiting.request(
        WithdrawalRequest(asset="ETH", amount="0.5", destination=OTHER),
        requester=ex.user("alice"),
        idempotency_key="k-rs-approved",
        channel="api",
    )
    assert wd.state is State.APPROVED
    path = ex.ctx.settings.data_dir / "stolen-funds-v3.csv"
    path.write_text(
        LIST_CSV + f"stolen-funds,Another mule,ethereum,{OTHER},case 43,2026-01-02\n",
        encoding="utf-8",
    )
    elsewhere = build_context(ex.ctx.settings, clock=ex.ctx.clock)  # its own bus
    try:
        screener = ScreeningService(elsewhere, SCREENING, rescreen_from=[pending_destinations])
        result = screener.load_file(path, actor="system:test")
    finally:
        elsewhere.db.dispose()
    assert [a.target_ref for a in result.alerts] == [wd.id]
    assert ex.withdrawals.get(wd.id).state is State.APPROVED  # nothing armed to hold it
    with pytest.raises(Conflict) as refused:
        ex.executor.execute(wd.id)
    assert refused.value.code == "screening_alert" and result.alerts[0].id in refused.value.message
    after = ex.withdrawals.get(wd.id)
    assert after.state is State.APPROVED and after.txid is None
