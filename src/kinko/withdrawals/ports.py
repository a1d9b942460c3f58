"""What the withdrawal service needs from its neighbours, as small protocols.

The real implementations are the screening, policy, identity and chain components;
`kinko.withdrawals.wiring.withdrawal_ports` wraps the process's own, which the
composition root hands in (`kinko.services.Services.ports_on`). Keeping the surface this small is
what lets the signer and the service be reasoned about on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from kinko.chains.base import ChainAdapter
from kinko.core.amount import Asset
from kinko.policy.model import Decision, PolicyRequest, ScreeningVerdict
from kinko.store.tables.custody import WalletRow


class Verdict(Protocol):
    @property
    def status(self) -> str: ...


class Screener(Protocol):
    def screen_address(self, session: Session, *, chain: str, address: str) -> Verdict: ...


class PolicyGate(Protocol):
    def evaluate_and_reserve(
        self,
        session: Session,
        request: PolicyRequest,
        *,
        withdrawal_id: str,
        screening: ScreeningVerdict,
        first: bool = False,
    ) -> Decision:
        """`first`: the withdrawal was created in this transaction, so it has no earlier
        reservation to replace."""
        ...

    def release(self, session: Session, withdrawal_id: str) -> object: ...


@dataclass(frozen=True, slots=True)
class Credential:
    credential_id: bytes
    user: str
    public_key_cose: bytes


class Directory(Protocol):
    """Identity as the approval flow needs it."""

    def roles_for(self, session: Session, user: str, *, wallet: str, asset: str) -> set[str]: ...

    def credentials_of(self, session: Session, user: str) -> Sequence[Credential]: ...

    def record_sign_count(self, session: Session, credential_id: bytes, count: int) -> None:
        """Store the assertion's counter; raise if it did not advance (cloned key)."""
        ...

    def check_can_approve(
        self, session: Session, *, approver: str, requester: str, wallet: str, asset: str
    ) -> None:
        """Raise ApprovalError if separation of duties forbids `approver` here."""
        ...

    def check_totp(self, session: Session, user: str, code: str) -> None:
        """Verify and consume `user`'s current TOTP code (single use, throttled; refused
        for WebAuthn-only roles unless weakened); raise ApprovalError otherwise."""
        ...

    def record_totp_failure(self, session: Session, user: str) -> None:
        """Count a wrong TOTP code against `user`'s throttle (in its own transaction)."""
        ...


class Freezes(Protocol):
    def frozen_reason_for_wallet(self, session: Session, wallet_id: str) -> str | None:
        """Why the wallet, its chain, its assets or everything is frozen, or None."""
        ...

    def freeze_wallet(
        self, session: Session, wallet_id: str, *, reason: str, actor: str
    ) -> None: ...


class ChainGateway(Protocol):
    """Chain work for one wallet: build, decode (via `adapter`), sign and broadcast."""

    def network_of(self, wallet: WalletRow) -> str: ...

    def adapter(self, chain: str, network: str) -> ChainAdapter: ...

    def wallet_adapter(self, wallet: WalletRow) -> ChainAdapter:
        """The adapter that decodes `wallet`'s transactions (a Bitcoin one needs the
        wallet's descriptor to tell change from payments)."""
        ...

    def build_unsigned(
        self, session: Session, wallet: WalletRow, asset: Asset, amount: int, destination: str
    ) -> bytes: ...

    def sign(self, wallet: WalletRow, unsigned_tx: bytes) -> bytes: ...

    def can_broadcast(self, chain: str) -> bool:
        """Whether this build has a node for `chain` at all (no I/O): when it has none, an
        approved withdrawal waits for `execute` instead of being tried at once."""
        ...

    def require_broadcast(self, wallet: WalletRow) -> None:
        """Raise Unavailable (naming the setting to fix) unless `wallet`'s transactions
        can be broadcast now: checked before anything is signed."""
        ...

    def broadcast(self, wallet: WalletRow, signed_tx: bytes) -> str: ...


@dataclass(frozen=True, slots=True)
class Ports:
    screener: Screener
    policy: PolicyGate
    directory: Directory
    freezes: Freezes
    chains: ChainGateway
