"""Run the executor in a child process and `kill -9` it at a chosen point.

Usage: python -m tests.integration.withdrawals.crash_child DATA_DIR DB_URL NOW WD_ID POINT OUT
POINT is ``after_sign`` (the signer returned, nothing stored yet), ``before_broadcast``
(signed transaction stored, not yet sent) or ``after_send`` (the node accepted the
transaction, Kinko has not recorded it). OUT receives the signed bytes (hex) first.

Or POINT is where a withdrawal has just become approved and the service is about to hand
it to execution (killed before anything is signed): ``after_quorum`` (the child gives the
approval that completes the quorum: OUT holds ``{"approver", "assertion"}``) or
``after_decision`` (the child requests what policy allows: WD_ID is the idempotency key,
OUT holds ``{"requester", "amount", "destination"}``).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from kinko.audit.note import Signer
from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.config import Settings
from kinko.context import build_context
from kinko.core.clock import FixedClock
from kinko.services import build_services
from kinko.signer.bundle import ApprovalBundle
from kinko.signer.online import OnlineSigner
from kinko.store.tables.custody import WalletRow
from kinko.withdrawals.approvals import ApprovalService
from kinko.withdrawals.execution import Executor
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.service import WithdrawalRequest, WithdrawalService
from kinko.withdrawals.signing import WithdrawalRecords
from kinko.withdrawals.wiring import EthereumGateway, FileKeystore
from tests.integration.withdrawals.exchange import SCREENING


def main(argv: list[str]) -> None:
    data_dir, url, now, withdrawal_id, point, out = argv
    from web3 import EthereumTesterProvider, Web3

    w3 = Web3(EthereumTesterProvider())
    settings = Settings(data_dir=Path(data_dir), database_url=url, log_json=False)
    ctx = build_context(settings, clock=FixedClock(datetime.fromisoformat(now)))
    vkey = Signer.parse(settings.resolved_audit_key_path.read_text()).verifier().text()
    gateway = EthereumGateway("devnet", web3=w3)
    services = build_services(ctx, screening_config=SCREENING)
    ports = services.ports_on(gateway)
    signer = OnlineSigner(
        ctx,
        WithdrawalRecords(ports),
        keystore=FileKeystore(Path(data_dir) / "keys"),
        adapter_for=lambda chain, network: EthereumAdapter(network, web3=w3),
        log_vkey=vkey,
    )

    class CrashAfterSign:
        def sign(self, bundle: ApprovalBundle) -> bytes:
            signed = signer.sign(bundle)
            Path(out).write_text(signed.hex())
            os.kill(os.getpid(), signal.SIGKILL)
            raise AssertionError("unreachable")

    class CrashBeforeBroadcast(EthereumGateway):
        def broadcast(self, wallet: WalletRow, signed_tx: bytes) -> str:
            Path(out).write_text(signed_tx.hex())
            os.kill(os.getpid(), signal.SIGKILL)
            raise AssertionError("unreachable")

    class CrashAfterSend(EthereumGateway):
        def broadcast(self, wallet: WalletRow, signed_tx: bytes) -> str:
            super().broadcast(wallet, signed_tx)
            Path(out).write_text(signed_tx.hex())
            os.kill(os.getpid(), signal.SIGKILL)
            raise AssertionError("unreachable")

    class CrashOnHandingOn(Executor):
        def after_approval(self, current: WithdrawalView) -> WithdrawalView:
            os.kill(os.getpid(), signal.SIGKILL)
            raise AssertionError("unreachable")

    if point in {"after_quorum", "after_decision"}:
        given = json.loads(Path(out).read_text())
        crash = CrashOnHandingOn(ctx, ports, signer)
        if point == "after_quorum":
            ApprovalService(ctx, ports, executor=crash).approve(
                withdrawal_id, approver=given["approver"], assertion=given["assertion"]
            )
        else:
            WithdrawalService(ctx, ports, executor=crash).request(
                WithdrawalRequest(
                    asset="ETH", amount=given["amount"], destination=given["destination"]
                ),
                requester=given["requester"],
                idempotency_key=withdrawal_id,
                channel="api",
            )
        raise SystemExit("the withdrawal was not handed on")
    bundle_signer: Any = signer
    if point == "after_sign":
        bundle_signer = CrashAfterSign()
    else:
        gateway = (CrashBeforeBroadcast if point == "before_broadcast" else CrashAfterSend)(
            "devnet", web3=w3
        )
        ports = services.ports_on(gateway)
    Executor(ctx, ports, bundle_signer).execute(withdrawal_id)
    raise SystemExit("the crash point was not reached")


if __name__ == "__main__":
    main(sys.argv[1:])
