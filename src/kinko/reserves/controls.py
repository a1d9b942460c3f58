"""Proofs of control of a snapshot's reserve addresses, on the database (service part).

The reserve wallets of a snapshot are the customer wallets holding a balance in the
custody snapshot of its day. Only a wallet whose address has signed the snapshot's
statement (`kinko.reserves.ownership`) counts: its balance is reserves; any other
wallet's balance is listed as unproven and counts for nothing (fail closed). A hot
wallet whose key Kinko holds signs at build; other addresses' signatures are imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import InputError, KinkoError
from kinko.custody.coldshare import BalanceMatrix
from kinko.custody.model import OwnerClass
from kinko.custody.wallets import wallet
from kinko.reserves import control
from kinko.reserves.ownership import CHAINS, Control, statement
from kinko.store.tables.reserves import ReserveControlRow

AUDIT_ACTION = "reserves.control"


@dataclass(frozen=True, slots=True)
class Reserve:
    """A customer wallet holding a balance at the snapshot: its address and its proof."""

    wallet_id: str
    chain: str
    address: str | None
    control: Control | None
    descriptor: str | None = None
    """A Bitcoin wallet's output descriptor and network (for signing at build only)."""
    network: str | None = None

    @property
    def why_unproven(self) -> str:
        if self.control is not None:
            return ""
        if not self.address:
            return "no single address to sign with"
        if self.chain not in CHAINS:
            return f"{self.chain}: no proof of control on this chain"
        if self.chain == "bitcoin":
            return "no BIP-322 signature yet (m cosigners sign): `kinko reserves attest`"
        return "no signature yet: `kinko reserves attest`"

    def to_json(self) -> dict[str, object]:
        return {
            "wallet": self.wallet_id,
            "chain": self.chain,
            "address": self.address,
            "proven": self.control is not None,
            "why": self.why_unproven or None,
        }


def candidates(session: Session, matrix: BalanceMatrix) -> list[Reserve]:
    """The customer wallets holding something in the custody snapshot, unproven."""
    out = []
    for i, info in enumerate(matrix.wallets):
        if info.owner is not OwnerClass.CUSTOMER:
            continue
        if any(column[i] for column in matrix.balances.values()):
            row = wallet(session, info.id)
            out.append(Reserve(info.id, row.chain, info.address, None, row.descriptor, row.network))
    return out


def sign_held(
    reserves: Iterable[Reserve],
    key_for: Callable[[str], bytes] | None,
    snapshot_id: str,
    nonce: bytes,
    digest: bytes,
) -> list[Reserve]:
    """Each reserve, signed now when its key is in Kinko's keystore and is the address's."""
    out = []
    for r in reserves:
        proof = None
        if key_for is not None and r.address and r.chain in CHAINS:
            try:
                key = key_for(r.wallet_id)
            except KinkoError:  # no key file for this wallet: it is not a hot wallet
                key = None
            if key is not None:
                proof = _sign(r, key, snapshot_id, nonce, digest)
        out.append(Reserve(r.wallet_id, r.chain, r.address, proof))
    return out


def _sign(r: Reserve, key: bytes, snapshot_id: str, nonce: bytes, digest: bytes) -> Control | None:
    """Ethereum: the wallet's key signs (EIP-191). Bitcoin: the cosigner key Kinko holds
    signs (BIP-322) when it alone reaches the wallet's threshold; a wallet needing more
    signers is proven with `attest`."""
    address = r.address or ""
    if r.chain != "bitcoin":
        return control.sign(key, snapshot_id, nonce, digest, address)
    if not r.descriptor or not r.network:
        return None
    return control.sign_bitcoin(
        [key],
        r.descriptor,
        r.network,
        snapshot_id=snapshot_id,
        nonce=nonce,
        roots_digest=digest,
        address=address,
    )


def bitcoin_psbt(
    session: Session, row: ReserveControlRow, snapshot_id: str, nonce: bytes, digest: bytes
) -> str:
    """The BIP-322 PSBT of a Bitcoin descriptor wallet's statement, for its cosigners."""
    kept = wallet(session, row.wallet_id)
    if row.chain != "bitcoin" or not kept.descriptor or not row.address:
        raise InputError(
            "address",
            f"{row.address} is not a Bitcoin descriptor wallet's address: its key signs the "
            "statement itself (`--show`)",
        )
    return control.bitcoin_psbt(
        kept.descriptor,
        kept.network,
        statement(snapshot_id, nonce, digest, "bitcoin", row.address.lower()),
        row.address.lower(),
    )


def proven_reserves(matrix: BalanceMatrix, reserves: Iterable[Reserve]) -> dict[str, int]:
    """Per asset, the balances of the proven wallets only."""
    proven = {r.wallet_id for r in reserves if r.control is not None}
    out: dict[str, int] = {}
    for i, info in enumerate(matrix.wallets):
        if info.id in proven:
            for asset, column in matrix.balances.items():
                out[asset] = out.get(asset, 0) + column[i]
    return out


def record(
    ctx: Context, session: Session, snapshot_id: str, reserves: Iterable[Reserve], actor: str
) -> None:
    """Store the snapshot's reserve wallets; each proof is also audited."""
    for r in reserves:
        row = ReserveControlRow(
            snapshot_id=snapshot_id, wallet_id=r.wallet_id, chain=r.chain, address=r.address
        )
        session.add(row)
        if r.control is not None:
            prove(ctx, session, row, r.control, actor)


def prove(
    ctx: Context, session: Session, row: ReserveControlRow, proof: Control, actor: str
) -> None:
    """Record a checked proof of control on its row, with its audit entry."""
    entry = ctx.audit.append(
        session,
        actor=actor,
        action=AUDIT_ACTION,
        subject=row.snapshot_id,
        details={"wallet": row.wallet_id, **proof.to_json()},
    )
    row.public_key, row.signature = proof.public_key or None, proof.signature
    row.attested_at, row.attested_by, row.audit_seq = ctx.clock.now(), actor, entry.seq


def stored(session: Session, snapshot_id: str) -> list[Reserve]:
    rows = session.execute(
        select(ReserveControlRow)
        .where(ReserveControlRow.snapshot_id == snapshot_id)
        .order_by(ReserveControlRow.wallet_id)
    ).scalars()
    return [_reserve(r) for r in rows]


def _reserve(row: ReserveControlRow) -> Reserve:
    proof = None
    keyed = row.public_key is not None or row.chain == "bitcoin"  # BIP-322: the witness has it
    if row.signature is not None and keyed and row.address:
        proof = Control(row.chain, row.address.lower(), row.public_key or b"", row.signature)
    return Reserve(row.wallet_id, row.chain, row.address, proof)


def unproven(reserves: Iterable[Reserve]) -> tuple[Reserve, ...]:
    return tuple(r for r in reserves if r.control is None)


def by_address(rows: Mapping[str, ReserveControlRow], address: str) -> ReserveControlRow | None:
    wanted = address.strip().lower()
    return next((r for r in rows.values() if (r.address or "").lower() == wanted), None)
