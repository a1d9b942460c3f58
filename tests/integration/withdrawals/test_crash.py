"""kill -9 between two steps leaves a state the service resumes from without signing twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import Unavailable
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.service import WithdrawalRequest
from kinko.withdrawals.states import State
from tests.integration.withdrawals.exchange import RECIPIENT, build_exchange
from tests.support.services import services_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def signed_count(ctx: Context) -> int:
    with ctx.db.transaction() as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(AuditEntryRow)
                .where(AuditEntryRow.action == "signer.signed")
            ).scalar_one()
        )


def crash(ctx: Context, withdrawal_id: str, point: str, out: Path) -> None:
    """Run tests/integration/withdrawals/crash_child.py to `point`, where it kills itself."""
    child = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            "-m",
            "tests.integration.withdrawals.crash_child",
            str(ctx.settings.data_dir),
            ctx.settings.resolved_database_url,
            ctx.clock.now().isoformat(),
            withdrawal_id,
            point,
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr


@pytest.mark.parametrize("point", ["after_sign", "before_broadcast", "after_send"])
def test_resume_after_kill_minus_9(ctx: Context, tmp_path: Path, point: str) -> None:
    from web3 import EthereumTesterProvider, Web3

    w3: Any = Web3(EthereumTesterProvider())  # fresh chain: nonce 0, as in the child's
    ex = build_exchange(ctx, w3)
    # Requested where no node is configured: approved, not executed (the child does).
    wd = (
        services_of(ctx)
        .stack_on()
        .withdrawals.request(
            WithdrawalRequest(asset="ETH", amount="0.25", destination=RECIPIENT),
            requester=ex.user("alice"),
            idempotency_key="k-crash",
            channel="api",
        )
    )
    assert wd.state is State.APPROVED
    out = tmp_path / "signed.hex"
    crash(ctx, wd.id, point, out)
    child_signed = bytes.fromhex(out.read_text())
    expected = State.APPROVED if point == "after_sign" else State.SIGNED
    assert ex.withdrawals.get(wd.id).state is expected
    assert signed_count(ctx) == 1
    if point == "after_send":
        # The child's node accepted it (the child and this test run separate in-process
        # chains: give this one the same transaction, as one shared node would have it).
        w3.eth.send_raw_transaction(child_signed)
    done = ex.executor.execute(wd.id)
    assert done.state is State.BROADCAST
    # after_sign: signed again from the same bytes -> the very same transaction.
    # before_broadcast: the stored transaction is sent; the signer is not asked again.
    # after_send: the node refuses it again ("nonce too low"), but knows its hash: it is
    # recorded as broadcast instead of failing forever.
    assert signed_count(ctx) == (2 if point == "after_sign" else 1)
    tx = w3.eth.get_transaction(done.txid)
    assert bytes(tx["hash"]) == w3.keccak(child_signed)
    assert w3.eth.get_transaction_count(w3.eth.accounts[0]) == 1


def test_another_transaction_with_the_same_nonce_is_not_taken_for_ours(ctx: Context) -> None:
    """Only a transaction with our hash counts as ours: if the account's nonce went to
    something else, the send still fails and the withdrawal stays signed."""
    from web3 import EthereumTesterProvider, Web3

    w3: Any = Web3(EthereumTesterProvider())
    ex = build_exchange(ctx, w3)
    # Requested where no node is configured: approved, not executed (the child does).
    wd = (
        services_of(ctx)
        .stack_on()
        .withdrawals.request(
            WithdrawalRequest(asset="ETH", amount="0.25", destination=RECIPIENT),
            requester=ex.user("alice"),
            idempotency_key="k-other-nonce",
            channel="api",
        )
    )
    ex.executor._sign(wd.id)  # signed and stored, as a crash before the send leaves it
    assert ex.withdrawals.get(wd.id).state is State.SIGNED
    w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": w3.eth.accounts[1], "value": 1})
    with pytest.raises(Unavailable, match="the node refused the transaction"):
        ex.executor.execute(wd.id)
    assert ex.withdrawals.get(wd.id).state is State.SIGNED


@pytest.mark.parametrize("point", ["after_quorum", "after_decision"])
def test_approved_but_unsigned_after_a_crash_goes_out_when_kinko_starts(
    ctx: Context, tmp_path: Path, point: str
) -> None:
    """Killed after the approving transaction committed, before the service handed the
    withdrawal to execution: it is left approved, nothing signed. `kinko serve`'s start
    (its periodic execution job) signs and broadcasts it; nobody runs execute."""
    from fastapi.testclient import TestClient
    from web3 import EthereumTesterProvider, Web3

    from kinko.api.background import EXECUTION_GRACE
    from kinko.server import create_app

    w3: Any = Web3(EthereumTesterProvider())
    ex = build_exchange(ctx, w3)  # its services hand nothing on: the child's do
    given = tmp_path / "given.json"
    if point == "after_quorum":
        pending = ex.withdrawals.request(
            WithdrawalRequest(asset="ETH", amount="2", destination=RECIPIENT),
            requester=ex.user("alice"),
            idempotency_key="k-crash-quorum",
            channel="api",
        )
        assert pending.state is State.PENDING_APPROVAL and pending.digest is not None
        ex.approvals.approve(
            pending.id, approver=ex.user("bob"), assertion=ex.assert_digest("bob", pending.digest)
        )
        last = {"approver": ex.user("carol"), "assertion": ex.assertion_for("carol", pending.id)}
        given.write_text(json.dumps(last))
        crash(ctx, pending.id, point, given)
        withdrawal_id = pending.id
    else:
        asked = {"requester": ex.user("alice"), "amount": "0.25", "destination": RECIPIENT}
        given.write_text(json.dumps(asked))
        crash(ctx, "k-crash-decided", point, given)
        with ctx.db.transaction() as session:
            withdrawal_id = session.execute(
                select(WithdrawalRow.id).where(WithdrawalRow.idempotency_key == "k-crash-decided")
            ).scalar_one()
    assert ex.withdrawals.get(withdrawal_id).state is State.APPROVED
    assert signed_count(ctx) == 0

    # Restarted a minute later: left behind, not being executed by an approving request.
    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.advance(EXECUTION_GRACE + timedelta(seconds=1))
    app = create_app(ctx, background=True)
    app.state.withdrawal_stack = services_of(ctx).stack_on(network="devnet", web3=w3)
    with TestClient(app):
        deadline = time.monotonic() + 60
        while ex.withdrawals.get(withdrawal_id).state is State.APPROVED:
            assert time.monotonic() < deadline, "not executed on start"
            time.sleep(0.1)
    done = ex.withdrawals.get(withdrawal_id)
    assert done.state is State.BROADCAST and done.txid is not None
    assert signed_count(ctx) == 1
    assert w3.eth.wait_for_transaction_receipt(done.txid)["status"] == 1
