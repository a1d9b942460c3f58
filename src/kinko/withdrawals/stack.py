"""One object holding the withdrawal services wired for a context and a chain gateway.

`kinko serve` and the CLI build one from settings; the demo builds one on its in-process
chain and hands it to the API via ``app.state.withdrawal_stack``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.context import Context
from kinko.signer.online import OnlineSigner, SigningAdapter
from kinko.withdrawals.approvals import ApprovalService
from kinko.withdrawals.execution import Executor
from kinko.withdrawals.ports import Ports, Screener
from kinko.withdrawals.service import WithdrawalService
from kinko.withdrawals.wiring import EthereumGateway, FileKeystore, default_ports


@dataclass
class WithdrawalStack:
    ctx: Context
    ports: Ports
    withdrawals: WithdrawalService
    approvals: ApprovalService
    signer: OnlineSigner
    executor: Executor
    log_vkey: str


def log_vkey_of(ctx: Context) -> str:
    """The audit log's verifier key, derived from the signing key Kinko holds."""
    return ctx.audit.signer().verifier().text()


def build_stack(
    ctx: Context,
    *,
    network: str | None = None,
    web3: Any = None,
    screener: Screener | None = None,
) -> WithdrawalStack:
    gateway = EthereumGateway(network, web3=web3)
    ports = default_ports(ctx, gateway, screener=screener)

    def adapter_for(chain: str, net: str) -> SigningAdapter:
        del chain
        return EthereumAdapter(net, web3=web3)

    vkey = log_vkey_of(ctx)
    signer = OnlineSigner(
        ctx,
        ports,
        keystore=FileKeystore(ctx.settings.data_dir / "keys"),
        adapter_for=adapter_for,
        log_vkey=vkey,
    )
    return WithdrawalStack(
        ctx=ctx,
        ports=ports,
        withdrawals=WithdrawalService(ctx, ports),
        approvals=ApprovalService(ctx, ports),
        signer=signer,
        executor=Executor(ctx, ports, signer),
        log_vkey=vkey,
    )


__all__ = ["WithdrawalStack", "build_stack", "log_vkey_of"]
