"""One object holding the withdrawal services wired for a context and a chain gateway.

The composition root (`kinko.services.Services.withdrawal_stack`) builds the one of a
process, from settings or on the chain nodes it was given (the demo's in-process chain),
with the root's own screening, policy, identity and freeze services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kinko.chains.ethereum.networks import CHAIN_IDS
from kinko.context import Context
from kinko.core.errors import ConfigError
from kinko.signer.online import OnlineSigner, SigningAdapter
from kinko.withdrawals.approvals import ApprovalService
from kinko.withdrawals.bitcoin import BitcoinGateway
from kinko.withdrawals.execution import Executor
from kinko.withdrawals.ports import ChainGateway, Ports
from kinko.withdrawals.records import WithdrawalView
from kinko.withdrawals.service import WithdrawalService
from kinko.withdrawals.signing import WithdrawalRecords
from kinko.withdrawals.wiring import ChainRouter, EthereumGateway, FileKeystore


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
        """The operator's explicit retry (`kinko withdraw execute`): sign (online signer,
        full checks) and broadcast an approved hot-wallet withdrawal the services could
        not execute when it was approved (no node then, the node unreachable), or send a
        signed one again. Warm/cold wallets are refused (kinko cosign)."""
        return self.executor.execute(withdrawal_id)


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


def chain_router(ctx: Context, network: str | None, web3: Any) -> ChainRouter:
    """Ethereum on the node `web3` (on `network`), or the one of the settings when
    neither is given; Bitcoin through its own gateway."""
    if web3 is None and network is None:
        network, web3 = node_from_settings(ctx)
    return ChainRouter(
        {"ethereum": EthereumGateway(network, web3=web3), "bitcoin": BitcoinGateway()}
    )


def build_stack(ctx: Context, ports: Ports) -> WithdrawalStack:
    """The withdrawal services with `ports`, the process's neighbours on its chain
    gateway (`kinko.services.Services.stack_on` builds them)."""
    gateway = ports.chains
    adapter_for = signing_adapters(gateway)

    vkey = log_vkey_of(ctx)
    signer = OnlineSigner(
        ctx,
        WithdrawalRecords(ports),
        keystore=FileKeystore(ctx.settings.data_dir / "keys"),
        adapter_for=adapter_for,
        log_vkey=vkey,
    )
    # One executor: what becomes approved is handed to it by the services themselves.
    executor = Executor(ctx, ports, signer)
    return WithdrawalStack(
        ctx=ctx,
        ports=ports,
        withdrawals=WithdrawalService(ctx, ports, executor=executor),
        approvals=ApprovalService(ctx, ports, executor=executor),
        signer=signer,
        executor=executor,
        log_vkey=vkey,
    )


def signing_adapters(chains: ChainGateway) -> Callable[[str, str], SigningAdapter]:
    """The online signer's `adapter_for(chain, network)`: the adapter of that chain's
    gateway (a chain without one is refused, `InputError` naming it)."""

    def adapter_for(chain: str, network: str) -> SigningAdapter:
        return chains.adapter(chain, network)

    return adapter_for


__all__ = [
    "WithdrawalStack",
    "build_stack",
    "log_vkey_of",
    "node_from_settings",
    "signing_adapters",
]
