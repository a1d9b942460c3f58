"""Run the executor in a child process and `kill -9` it at a chosen point.

Usage: python -m tests.integration.withdrawals.crash_child DATA_DIR DB_URL NOW WD_ID POINT OUT
POINT is ``after_sign`` (the signer returned, nothing stored yet), ``before_broadcast``
(signed transaction stored, not yet sent) or ``after_send`` (the node accepted the
transaction, Kinko has not recorded it). OUT receives the signed bytes (hex) first.
"""

from __future__ import annotations

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
from kinko.screening.service import ScreeningService
from kinko.signer.bundle import ApprovalBundle
from kinko.signer.online import OnlineSigner
from kinko.store.tables.custody import WalletRow
from kinko.withdrawals.execution import Executor
from kinko.withdrawals.signing import WithdrawalRecords
from kinko.withdrawals.wiring import EthereumGateway, FileKeystore, default_ports
from tests.integration.withdrawals.exchange import SCREENING


def main(argv: list[str]) -> None:
    data_dir, url, now, withdrawal_id, point, out = argv
    from web3 import EthereumTesterProvider, Web3

    w3 = Web3(EthereumTesterProvider())
    settings = Settings(data_dir=Path(data_dir), database_url=url, log_json=False)
    ctx = build_context(settings, clock=FixedClock(datetime.fromisoformat(now)))
    vkey = Signer.parse(settings.resolved_audit_key_path.read_text()).verifier().text()
    gateway = EthereumGateway("devnet", web3=w3)
    ports = default_ports(ctx, gateway, screener=ScreeningService(ctx, SCREENING))
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

    bundle_signer: Any = signer
    if point == "after_sign":
        bundle_signer = CrashAfterSign()
    else:
        gateway = (CrashBeforeBroadcast if point == "before_broadcast" else CrashAfterSend)(
            "devnet", web3=w3
        )
        ports = default_ports(ctx, gateway, screener=ScreeningService(ctx, SCREENING))
    Executor(ctx, ports, bundle_signer).execute(withdrawal_id)
    raise SystemExit("the crash point was not reached")


if __name__ == "__main__":
    main(sys.argv[1:])
