"""What a withdrawal's signature would really cover: the unsigned transaction on record,
decoded and digested NOW by the wallet's own adapter — not the intent and digest written
beside it when it was built.

Between building and signing, the bytes sit in the database. Someone who can write there
(a wallet vendor's hijacked session at DMM Bitcoin, 2024; a shell on the host) can swap
them and leave the recorded digest and intent as they were, so that every screen shows
the legitimate withdrawal while the signer is handed another. The signer re-checks the
bytes against the approved digest and refuses; this module lets the approval page and the
approval service see the swap first: the page shows what the bytes do, and no approval is
taken over a digest the bytes no longer have.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kinko.core.errors import Conflict, KinkoError
from kinko.store.tables.custody import WalletRow
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.ports import ChainGateway

ALTERED = "transaction_altered"  # the error code of an approval refused for it


@dataclass(frozen=True, slots=True)
class AsSigned:
    """The bytes on record, decoded (`intent`, None when they do not decode) and digested
    (`digest`, hex) now, and why they are not the bytes whose digest was recorded
    (`altered`, in words; None when they are)."""

    intent: dict[str, Any] | None
    digest: str | None
    altered: str | None


def as_signed(chains: ChainGateway, session: Session, row: WithdrawalRow) -> AsSigned | None:
    """The withdrawal's unsigned transaction as its signature would cover it, or None when
    none has been built yet."""
    if row.unsigned_tx is None:
        return None
    wallet = session.get(WalletRow, row.wallet_id)
    if wallet is None:
        raise Conflict(f"wallet {row.wallet_id} of withdrawal {row.id} does not exist")
    adapter = chains.wallet_adapter(wallet)
    payload = bytes(row.unsigned_tx)
    try:
        intent, digest = adapter.decode(payload).to_json(), adapter.signing_digest(payload).hex()
    except (KinkoError, ValueError) as exc:  # bytes no adapter of this chain reads
        return AsSigned(None, None, _altered(row, f"does not decode ({_said(exc)})"))
    if row.digest is not None and same_digest(digest, row.digest):
        return AsSigned(intent, digest, None)
    return AsSigned(intent, digest, _altered(row, f"has digest {digest}, not {row.digest}"))


def same_digest(one: str, other: str) -> bool:
    """Two hex digests as text, compared in constant time as bytes: compare_digest raises
    TypeError on non-ASCII text, and a rewritten digest that no comparison takes must be
    refused and audited like any other."""
    return hmac.compare_digest(one.encode(), other.encode())


def _altered(row: WithdrawalRow, found: str) -> str:
    return (
        f"the transaction waiting for signatures in withdrawal {row.id} {found} as "
        "recorded: it was changed after Kinko built it. Do not approve it; tell your "
        "security team"
    )


def _said(exc: Exception) -> str:
    return exc.message if isinstance(exc, KinkoError) else str(exc)
