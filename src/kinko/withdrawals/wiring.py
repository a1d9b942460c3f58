"""The real neighbours behind `Ports`: screening, policy, identity, freezes, chains."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from kinko.chains.base import ChainAdapter
from kinko.chains.ethereum.adapter import EthereumAdapter, Fees, Transfer
from kinko.core.amount import Asset
from kinko.core.errors import (
    ApprovalError,
    AuthenticationError,
    InputError,
    KinkoError,
    Unavailable,
)
from kinko.core.secretfile import read_private
from kinko.identity import throttle
from kinko.identity.mfa_codes import webauthn_only
from kinko.identity.names import person
from kinko.identity.service import IdentityService
from kinko.identity.sod import check_matrix_holds
from kinko.policy.freeze import FreezeService
from kinko.policy.model import FreezeScope, asset_key
from kinko.policy.service import PolicyService
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.ports import ChainGateway, Credential, Ports, Screener
from kinko.withdrawals.states import State

ETH_FEES = Fees(max_fee_per_gas=20 * 10**9, max_priority_fee_per_gas=10**9, gas_limit=21_000)
TOKEN_GAS = 90_000
_LIVE_NONCE_STATES = tuple(
    s.value
    for s in (
        State.PENDING_APPROVAL,
        State.APPROVED,
        State.SIGNED,
        State.BROADCAST,
    )
)
"""Withdrawals whose nonce is taken but which the node may not count yet (confirmed ones
it counts itself)."""

_HIGHEST_NONCE = select(func.max(WithdrawalRow.account_nonce)).where(
    WithdrawalRow.wallet_id == bindparam("wallet"), WithdrawalRow.state.in_(_LIVE_NONCE_STATES)
)


class IdentityDirectory:
    """Identity, as the withdrawal services ask it (the process's `IdentityService`)."""

    def __init__(self, identity: IdentityService) -> None:
        self.identity = identity

    def roles_for(self, session: Session, user: str, *, wallet: str, asset: str) -> set[str]:
        return {
            g.role.value
            for g in self.identity.roles_of(session, user)
            if g.covers(asset=asset, wallet=wallet)
        }

    def credentials_of(self, session: Session, user: str) -> Sequence[Credential]:
        return [
            Credential(c.credential_id, str(c.user_id), c.public_key_cose)
            for c in self.identity.credentials_for(session, user)
        ]

    def record_sign_count(self, session: Session, credential_id: bytes, count: int) -> None:
        try:
            self.identity.mfa.record_sign_count(session, credential_id, count)
        except KinkoError as exc:
            raise ApprovalError(
                f"the authenticator's signature counter did not advance: {exc.message} "
                "(a cloned authenticator is suspected)",
                code="webauthn_clone_suspected",
            ) from None

    def check_can_approve(
        self, session: Session, *, approver: str, requester: str, wallet: str, asset: str
    ) -> None:
        # The requester is refused by the four-eyes rules before (kinko.identity.four_eyes).
        grants = self.identity.roles_of(session, approver)
        try:
            check_matrix_holds(grants, self.identity.conflict_matrix(session))
        except KinkoError as exc:
            raise ApprovalError(
                f"{person(session, approver)} holds conflicting roles (separation of duties): "
                f"{exc.message}",
                code="sod_conflict",
            ) from None

    def check_totp(self, session: Session, user: str, code: str) -> None:
        row = self.identity.mfa.user_row(session, user)
        if (
            webauthn_only(self.identity.roles_of(session, user))
            and not self.identity.ctx.settings.allow_weak_mfa_for_privileged
        ):
            raise ApprovalError(
                f"{row.username} holds a privileged role that approves with WebAuthn only "
                "(set allow_weak_mfa_for_privileged to weaken this)",
                code="weak_mfa_refused",
            )
        keys = throttle.throttle_keys(row.username, None)
        if throttle.locked_keys(session, keys, self.identity.ctx.clock.now()):
            raise ApprovalError(
                f"{row.username} is locked out after too many wrong codes; try again later",
                code="totp_locked_out",
            )
        try:
            self.identity.mfa.check_totp(session, row, code)
        except AuthenticationError:
            raise ApprovalError(
                f"the TOTP code for {row.username} is wrong, expired or already used",
                code="totp_invalid",
            ) from None
        throttle.reset(session, keys[0])

    def record_totp_failure(self, session: Session, user: str) -> None:
        row = self.identity.mfa.user_row(session, user)
        keys = throttle.throttle_keys(row.username, None)
        throttle.record_failure(session, keys, self.identity.ctx.clock.now())


class WalletFreezes:
    """Freezes, as the withdrawal services ask about a wallet (the process's service)."""

    def __init__(self, service: FreezeService) -> None:
        self.service = service

    def frozen_reason_for_wallet(self, session: Session, wallet_id: str) -> str | None:
        wallet = session.get(WalletRow, wallet_id)
        if wallet is None:
            return f"wallet {wallet_id} is unknown"
        # keys (chain:SYMBOL), or bare symbols in rows written before wallets used keys
        assets = {a if ":" in a else asset_key(wallet.chain, a) for a in wallet.assets}
        for freeze in self.service.active_freezes(session):
            if (
                freeze.scope is FreezeScope.ALL
                or (freeze.scope is FreezeScope.WALLET and freeze.target == wallet_id)
                or (freeze.scope is FreezeScope.CHAIN and freeze.target == wallet.chain)
                or (freeze.scope is FreezeScope.ASSET and freeze.target in assets)
            ):
                return freeze.describe()
        return None

    def freeze_wallet(self, session: Session, wallet_id: str, *, reason: str, actor: str) -> None:
        self.service.freeze(
            session, scope=FreezeScope.WALLET, target=wallet_id, reason=reason, actor=actor
        )


@dataclass
class FileKeystore:
    """Hot-wallet keys as ``<dir>/<wallet id>.key`` files holding hex (mode 0600)."""

    directory: Path

    def key_for(self, wallet_id: str) -> bytes:
        path = self.directory / f"{wallet_id}.key"
        if not path.is_file():
            raise Unavailable(f"no usable signing key for wallet {wallet_id}: {path} is missing")
        raw = read_private(path, field="key")  # 0600 or stricter, else the chmod to run
        try:
            return bytes.fromhex(raw.decode("ascii").strip())
        except ValueError as exc:  # UnicodeDecodeError is a ValueError
            raise Unavailable(f"no usable signing key for wallet {wallet_id}: {exc}") from None


class EthereumGateway:
    """Ethereum for the wallets' own networks. With `web3` (a node, or the in-process
    eth-tester chain of ``devnet``) it serves that one network and can broadcast;
    without, it builds and decodes for any network and broadcasting is unavailable."""

    def __init__(
        self, network: str | None = None, *, web3: Any = None, tokens: dict[str, str] | None = None
    ) -> None:
        if web3 is not None and network is None:
            raise InputError("network", "name the network the web3 node serves")
        self.network = network
        self.web3 = web3
        self.tokens = dict(tokens or {})
        self._adapters: dict[str, EthereumAdapter] = {}

    def _adapter_for(self, network: str) -> EthereumAdapter:
        if self.network is not None and network != self.network:
            raise InputError(
                "source_wallet",
                f"the wallet is on ethereum/{network}; this Kinko is connected to {self.network}",
            )
        if network not in self._adapters:
            self._adapters[network] = EthereumAdapter(network, web3=self.web3, tokens=self.tokens)
        return self._adapters[network]

    def network_of(self, wallet: WalletRow) -> str:
        self._adapter_for(wallet.network)
        return wallet.network

    def adapter(self, chain: str, network: str) -> ChainAdapter:
        if chain != "ethereum":
            raise InputError("chain", f"no gateway for {chain}/{network} in this build")
        return self._adapter_for(network)

    def wallet_adapter(self, wallet: WalletRow) -> ChainAdapter:
        return self._adapter_for(wallet.network)

    def build_unsigned(
        self, session: Session, wallet: WalletRow, asset: Asset, amount: int, destination: str
    ) -> bytes:
        if wallet.address is None:
            raise InputError("source_wallet", f"wallet {wallet.id} has no address")
        token = None if asset.contract is None else asset.contract
        fees = (
            ETH_FEES
            if token is None
            else Fees(ETH_FEES.max_fee_per_gas, ETH_FEES.max_priority_fee_per_gas, TOKEN_GAS)
        )
        return self._adapter_for(wallet.network).build(
            Transfer(
                source=wallet.address,
                destination=destination,
                amount=amount,
                nonce=self._next_nonce(session, wallet),
                fees=fees,
                token=token,
            )
        )

    def _next_nonce(self, session: Session, wallet: WalletRow) -> int:
        """The node's count, or one past the highest nonce Kinko already built."""
        on_chain = 0
        if self.web3 is not None:
            on_chain = int(self.web3.eth.get_transaction_count(wallet.address, "pending"))
        highest = session.connection().execute(_HIGHEST_NONCE, {"wallet": wallet.id}).scalar()
        return on_chain if highest is None else max(on_chain, int(highest) + 1)

    def sign(self, wallet: WalletRow, unsigned_tx: bytes) -> bytes:
        raise Unavailable("signing goes through kinko.signer, not the gateway")

    def can_broadcast(self, chain: str) -> bool:
        return chain == "ethereum" and self.web3 is not None

    def require_broadcast(self, wallet: WalletRow) -> None:
        if self.web3 is None:
            raise Unavailable(
                f"no Ethereum node to broadcast wallet {wallet.id}'s transaction: set "
                "ethereum_node_url (KINKO_ETHEREUM_NODE_URL) and ethereum_network, then "
                "restart Kinko"
            )
        adapter = self._adapter_for(wallet.network)
        try:
            served = int(self.web3.eth.chain_id)
        except Exception as exc:
            raise Unavailable(
                f"the Ethereum node (ethereum_node_url) does not answer: {type(exc).__name__}"
            ) from None
        if served != adapter.chain_id:
            raise Unavailable(
                f"the Ethereum node serves chain id {served}, wallet {wallet.id} is on "
                f"{wallet.network} ({adapter.chain_id}): fix ethereum_node_url or "
                "ethereum_network"
            )

    def broadcast(self, wallet: WalletRow, signed_tx: bytes) -> str:
        return self._adapter_for(wallet.network).broadcast(signed_tx)


class ChainRouter:
    """One gateway per chain family, chosen by the wallet's (or the named) chain."""

    def __init__(self, gateways: dict[str, ChainGateway]) -> None:
        self.gateways = dict(gateways)

    def _for(self, chain: str) -> ChainGateway:
        gateway = self.gateways.get(chain)
        if gateway is None:
            raise InputError("chain", f"no gateway for {chain}; known: {sorted(self.gateways)}")
        return gateway

    def network_of(self, wallet: WalletRow) -> str:
        return self._for(wallet.chain).network_of(wallet)

    def adapter(self, chain: str, network: str) -> ChainAdapter:
        return self._for(chain).adapter(chain, network)

    def wallet_adapter(self, wallet: WalletRow) -> ChainAdapter:
        return self._for(wallet.chain).wallet_adapter(wallet)

    def build_unsigned(
        self, session: Session, wallet: WalletRow, asset: Asset, amount: int, destination: str
    ) -> bytes:
        return self._for(wallet.chain).build_unsigned(session, wallet, asset, amount, destination)

    def sign(self, wallet: WalletRow, unsigned_tx: bytes) -> bytes:
        return self._for(wallet.chain).sign(wallet, unsigned_tx)

    def can_broadcast(self, chain: str) -> bool:
        gateway = self.gateways.get(chain)
        return gateway is not None and gateway.can_broadcast(chain)

    def require_broadcast(self, wallet: WalletRow) -> None:
        self._for(wallet.chain).require_broadcast(wallet)

    def broadcast(self, wallet: WalletRow, signed_tx: bytes) -> str:
        return self._for(wallet.chain).broadcast(wallet, signed_tx)


def withdrawal_ports(
    chains: ChainGateway,
    *,
    screener: Screener,
    policy: PolicyService,
    identity: IdentityService,
    freezes: FreezeService,
) -> Ports:
    """The withdrawal services' neighbours, all of them the process's own (the
    composition root, `kinko.services.Services.ports_on`, hands them in)."""
    return Ports(
        screener=screener,
        policy=policy,
        directory=IdentityDirectory(identity),
        freezes=WalletFreezes(freezes),
        chains=chains,
    )
