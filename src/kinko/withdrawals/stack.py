"""One object holding the withdrawal services wired for a context and a chain gateway.

`kinko serve` and the CLI build one from settings; the demo builds one on its in-process
chain and hands it to the API via ``app.state.withdrawal_stack``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.chains.ethereum.networks import CHAIN_IDS
from kinko.context import Context
from kinko.core.errors import ConfigError, KinkoError
from kinko.custody.model import Tier
from kinko.signer.online import OnlineSigner, SigningAdapter
from kinko.store.tables.custody import WalletRow
from kinko.withdrawals.approvals import ApprovalService
from kinko.withdrawals.bitcoin import BitcoinGateway
from kinko.withdrawals.execution import Executor
from kinko.withdrawals.ports import Ports, Screener
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.rescreen import arm_rescreen_holds
from kinko.withdrawals.service import WithdrawalService
from kinko.withdrawals.signing import WithdrawalRecords
from kinko.withdrawals.states import State
from kinko.withdrawals.wiring import ChainRouter, EthereumGateway, FileKeystore, default_ports

log = structlog.get_logger("kinko.withdrawals")


@dataclass
class WithdrawalStack:
    ctx: Context
    ports: Ports
    withdrawals: WithdrawalService
    approvals: ApprovalService
    signer: OnlineSigner
    executor: Executor
    log_vkey: str

    def execute(self, withdrawal_id: str) -> WithdrawalView:
        """Sign (online signer, full checks) and broadcast an approved hot-wallet
        withdrawal; resume a signed one. Warm/cold wallets are refused (kinko cosign)."""
        return self.executor.execute(withdrawal_id)

    def settle(self, current: WithdrawalView) -> WithdrawalView:
        """After a decision or an approval: an approved hot-wallet withdrawal is signed and
        broadcast at once. If that cannot happen now (no node, a refusal: audited, wallet
        frozen, event raised by the signer) the withdrawal's state says so and
        `execute` may be called again; warm and cold wallets wait for `kinko cosign`.
        Without a node for the chain nothing is tried: it waits for `execute`."""
        if current.state is not State.APPROVED or not self.ports.chains.can_broadcast(
            current.chain
        ):
            return current
        with self.ctx.db.transaction() as session:
            wallet = session.get(WalletRow, current.wallet_id)
            hot = wallet is not None and wallet.tier == Tier.HOT.value
        if not hot:
            return current
        try:
            return self.executor.execute(current.id)
        except KinkoError as exc:
            log.warning(
                "approved withdrawal not executed",
                withdrawal=current.id,
                code=exc.code,
                reason=exc.message,
            )
            return self.withdrawals.get(current.id)


def node_from_settings(ctx: Context) -> tuple[str | None, Any]:
    """The network and web3 client of ``ethereum_node_url``, or (None, None) if unset."""
    url = ctx.settings.ethereum_node_url
    if not url:
        return None, None
    network = ctx.settings.ethereum_network
    if network not in CHAIN_IDS:
        raise ConfigError(
            "ethereum_network", f"unknown network {network!r}; use one of {', '.join(CHAIN_IDS)}"
        )
    from web3 import HTTPProvider, Web3

    return network, Web3(HTTPProvider(url, request_kwargs={"timeout": 10}))


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
    if web3 is None and network is None:
        network, web3 = node_from_settings(ctx)
    gateway = ChainRouter(
        {"ethereum": EthereumGateway(network, web3=web3), "bitcoin": BitcoinGateway()}
    )
    ports = default_ports(ctx, gateway, screener=screener)

    def adapter_for(chain: str, net: str) -> SigningAdapter:
        del chain
        return EthereumAdapter(net, web3=web3)

    vkey = log_vkey_of(ctx)
    signer = OnlineSigner(
        ctx,
        WithdrawalRecords(ports),
        keystore=FileKeystore(ctx.settings.data_dir / "keys"),
        adapter_for=adapter_for,
        log_vkey=vkey,
    )
    withdrawals = WithdrawalService(ctx, ports)
    arm_rescreen_holds(ctx, withdrawals)
    return WithdrawalStack(
        ctx=ctx,
        ports=ports,
        withdrawals=withdrawals,
        approvals=ApprovalService(ctx, ports),
        signer=signer,
        executor=Executor(ctx, ports, signer),
        log_vkey=vkey,
    )


__all__ = ["WithdrawalStack", "build_stack", "log_vkey_of", "node_from_settings"]
