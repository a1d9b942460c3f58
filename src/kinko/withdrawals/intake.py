"""A withdrawal request as it arrives, and what is checked before the write lock.

The checks here read only (a `Database.reading()` session, no lock held): the asset and
amount, the source wallet, the address for its chain, the screening of the destination and
whether it was ever paid. The write transaction (kinko.withdrawals.service) re-reads the
wallet under the lock and relies on the rest.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kinko.chains.destinations import refuse_unspendable
from kinko.core.amount import Amount, Asset
from kinko.core.canonical import canonical_json
from kinko.core.errors import Conflict, InputError
from kinko.store.tables.withdrawals import WithdrawalRow
from kinko.withdrawals.events import destination_first_seen
from kinko.withdrawals.lookup import choose_wallet, find_asset
from kinko.withdrawals.ports import Ports, Verdict

_BY_KEY = select(WithdrawalRow.id, WithdrawalRow.request_hash).where(
    WithdrawalRow.idempotency_key == bindparam("key")
)


@dataclass(frozen=True, slots=True)
class WithdrawalRequest:
    """A request as it arrives (API body / CLI flags): strings, parsed by the service."""

    asset: str
    amount: str
    destination: str
    source_wallet: str | None = None
    customer_ref: str | None = None
    memo: str | None = None

    def fingerprint(self, requester: str) -> str:
        body = {
            "asset": self.asset,
            "amount": self.amount,
            "destination": self.destination,
            "source_wallet": self.source_wallet,
            "customer_ref": self.customer_ref,
            "memo": self.memo,
            "requester": requester,
        }
        return hashlib.sha256(canonical_json(body)).hexdigest()


@dataclass(frozen=True, slots=True)
class Checked:
    """A new request, parsed and checked against the store before the write lock."""

    asset: Asset
    amount: Amount
    wallet_id: str
    network: str
    destination: str
    screening: Verdict
    first_seen: bool


@dataclass(frozen=True, slots=True)
class WriteOrder:
    """A checked request, with what its write phase needs (`WithdrawalService.write`)."""

    body: WithdrawalRequest
    requester: str
    key: str
    fingerprint: str
    channel: str
    checked: Checked


def check_request(reader: Session, body: WithdrawalRequest, ports: Ports) -> Checked:
    """Parse and check a new request against the store (read only, no lock held)."""
    asset = find_asset(reader, body.asset)
    amount = Amount.parse(asset, body.amount)
    wallet = choose_wallet(reader, asset, body.source_wallet)
    network = wallet.network
    adapter = ports.chains.adapter(wallet.chain, network)  # refuses a network not served
    destination = adapter.normalize_address(body.destination)
    refuse_unspendable(wallet.chain, network, destination, field="destination")
    for name, value, limit in (
        ("customer_ref", body.customer_ref, 200),
        ("memo", body.memo, 500),
    ):
        if value is not None and len(value) > limit:
            raise InputError(name, f"must be at most {limit} characters")
    screening = ports.screener.screen_address(reader, chain=wallet.chain, address=destination)
    first_seen = destination_first_seen(reader, wallet.chain, destination)
    return Checked(asset, amount, wallet.id, network, destination, screening, first_seen)


def existing_for_key(session: Session, key: str) -> tuple[str, str] | None:
    """(id, request hash) of the withdrawal an idempotency key already made, if any."""
    found = session.connection().execute(_BY_KEY, {"key": key}).first()
    return None if found is None else (found[0], found[1])


def same_body(existing: tuple[str, str], fingerprint: str) -> str:
    withdrawal_id, request_hash = existing
    if not hmac.compare_digest(request_hash, fingerprint):
        raise Conflict(
            "this Idempotency-Key was already used with a different request body; "
            "use a new key for a new withdrawal",
            code="idempotency_conflict",
        )
    return withdrawal_id
