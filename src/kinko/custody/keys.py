"""Key inventory and the nonce self-test (service).

Every key share of a wallet is recorded with its holder (a staff user id), device, site,
legal entity, creation time and ceremony record. One wallet never has two live shares on
one device or with one holder: that would let one person or one stolen laptop count twice
toward the quorum (the DMM Bitcoin and Ronin lesson). Status moves only forward:
active -> revoked or compromised. Each change is audited and published, once its
transaction commits, as a security event: ``custody.key.registered``,
``custody.key.revoked`` and (critical) ``custody.key.compromised``.

Registering a share is a four-eyes proposal (`kinko.custody.proposals`): `check_share`
validates it when proposed and again when approved, `store_share` then stores it. A share
that would let one legal entity reach the wallet's quorum m on its own (its live shares
plus those delegated to it, `kinko.custody.delegations`) is refused (`kinko.custody.reach`). Marking
a share revoked or compromised is one person's (it only stops a key being used, as a
freeze does); nothing returns a share to active. `unsafe_register_share` skips the second
person: test fixtures only; no API route or command reaches it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from eth_keys.datatypes import PublicKey
from eth_utils.exceptions import ValidationError as EthKeysValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.chains.base import EcdsaSignature
from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.context import Context
from kinko.core.errors import Conflict, InputError, NotFound
from kinko.core.events import SecurityEvent
from kinko.core.ids import new_id
from kinko.custody.delegations import check_wallet_reach
from kinko.custody.nonce import Finding, SignatureRecord, find_repeated_r
from kinko.store.publish import publish_after_commit
from kinko.store.tables.custody import KeyShareRow, SignatureLogRow, WalletRow
from kinko.store.tables.identity import UserRow

# stdlib logging: a broken log stream must not turn into an exception here.
log = logging.getLogger("kinko.custody")


class KeyStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    COMPROMISED = "compromised"


_NEXT = {
    KeyStatus.ACTIVE: {KeyStatus.REVOKED, KeyStatus.COMPROMISED},
    KeyStatus.REVOKED: {KeyStatus.COMPROMISED},
    KeyStatus.COMPROMISED: set(),
}
_REQUIRED_CEREMONY = ("performed_at", "witnesses", "procedure")


@dataclass(frozen=True, slots=True)
class NewKeyShare:
    wallet_id: str
    holder: str
    device: str
    site: str
    legal_entity: str
    public_key: str
    ceremony: Mapping[str, Any]


def check_share(
    session: Session, share: NewKeyShare, now: datetime, *, reach: bool = True
) -> WalletRow:
    """Validate `share` against its wallet's live shares and delegations; the wallet row,
    locked. `reach`: refuse a share that would let one legal entity reach the quorum
    (`kinko.custody.reach`); only the unsafe fixture path plants such a wallet."""
    row = session.get(WalletRow, share.wallet_id, with_for_update=True)  # serialise per wallet
    if row is None:
        raise NotFound(f"no wallet {share.wallet_id!r}")
    for name in ("holder", "device", "site", "legal_entity", "public_key"):
        if not str(getattr(share, name)).strip():
            raise InputError(name, "must not be empty")
    holder = session.get(UserRow, share.holder)
    if holder is None or holder.state != "active":
        raise InputError(
            "holder", f"{share.holder!r} is not an active staff user id; enrol the holder first"
        )
    missing = [k for k in _REQUIRED_CEREMONY if not share.ceremony.get(k)]
    if missing:
        raise InputError("ceremony", f"record {', '.join(missing)} of the key ceremony")
    live = [s for s in shares(session, share.wallet_id) if s.status != KeyStatus.REVOKED.value]
    for other in live:
        if other.holder == share.holder:
            raise Conflict(
                f"{share.holder} already holds share {other.id} of wallet {row.name}; "
                "one holder may hold one share of a wallet"
            )
        if other.device == share.device:
            raise Conflict(
                f"device {share.device} already stores share {other.id} of wallet "
                f"{row.name}; one device may store one share of a wallet"
            )
        if other.public_key == share.public_key:
            raise Conflict(f"public key is already registered as share {other.id}")
    if len(live) >= row.quorum_n:
        raise Conflict(f"wallet {row.name} already has {len(live)} of {row.quorum_n} shares")
    if reach:
        check_wallet_reach(session, row, now, extra_entity=share.legal_entity)
    return row


def unsafe_register_share(ctx: Context, session: Session, share: NewKeyShare, *, actor: str) -> str:
    """UNSAFE: register a key share without a second person. Test fixtures only."""
    log.warning(
        "unsafe key share registration (four eyes bypassed): wallet=%s holder=%s by %s",
        share.wallet_id,
        share.holder,
        actor,
    )
    return store_share(ctx, session, share, actor=actor, unsafe=True)


def store_share(
    ctx: Context,
    session: Session,
    share: NewKeyShare,
    *,
    actor: str,
    proposal: str | None = None,
    proposer: str | None = None,
    unsafe: bool = False,
) -> str:
    """Check and store `share`, audit and announce it: an approved proposal's last step.
    `unsafe` (fixtures only) also skips the legal-entity reach check."""
    check_share(session, share, ctx.clock.now(), reach=not unsafe)
    how: dict[str, Any] = (
        {"unsafe": True} if unsafe else {"proposal": proposal, "proposer": proposer}
    )
    share_id = new_id("key")
    now = ctx.clock.now()
    session.add(
        KeyShareRow(
            id=share_id,
            wallet_id=share.wallet_id,
            holder=share.holder,
            device=share.device,
            site=share.site,
            legal_entity=share.legal_entity,
            public_key=share.public_key,
            ceremony=dict(share.ceremony),
            status=KeyStatus.ACTIVE.value,
            created_at=now,
            status_changed_at=now,
        )
    )
    ctx.audit.append(
        session,
        actor=actor,
        action="custody.key.register",
        subject=share_id,
        details={
            "wallet": share.wallet_id,
            "holder": share.holder,
            "device": share.device,
            "site": share.site,
            "legal_entity": share.legal_entity,
            "public_key": share.public_key,
            "ceremony": dict(share.ceremony),
            **how,
        },
    )
    publish_after_commit(
        session,
        ctx.bus,
        SecurityEvent(
            type="custody.key.registered",
            time=now,
            actor=actor,
            outcome="success",
            wallet=share.wallet_id,
            severity="medium",
            fields={
                "share": share_id,
                "holder": share.holder,
                "device": share.device,
                "site": share.site,
                "legal_entity": share.legal_entity,
                "public_key": share.public_key,
                **how,
            },
        ),
    )
    return share_id


def shares(session: Session, wallet_id: str | None = None) -> list[KeyShareRow]:
    query = select(KeyShareRow).order_by(KeyShareRow.created_at, KeyShareRow.id)
    if wallet_id is not None:
        query = query.where(KeyShareRow.wallet_id == wallet_id)
    return list(session.execute(query).scalars())


def set_status(
    ctx: Context, session: Session, share_id: str, status: KeyStatus, *, reason: str, actor: str
) -> None:
    """Move a share forward; its event (`custody.key.<status>`) is published once
    `session` commits."""
    row = session.get(KeyShareRow, share_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no key share {share_id!r}")
    if not reason.strip():
        raise InputError("reason", "say why the status changes")
    current = KeyStatus(row.status)
    if status not in _NEXT[current]:
        raise Conflict(f"key share {share_id} is {current.value}; it cannot become {status.value}")
    row.status, row.status_reason, row.status_changed_at = status.value, reason, ctx.clock.now()
    ctx.audit.append(
        session,
        actor=actor,
        action=f"custody.key.{status.value}",
        subject=share_id,
        details={"wallet": row.wallet_id, "from": current.value, "reason": reason},
    )
    publish_after_commit(
        session,
        ctx.bus,
        SecurityEvent(
            type=f"custody.key.{status.value}",
            time=ctx.clock.now(),
            actor=actor,
            outcome="success",
            wallet=row.wallet_id,
            severity="critical" if status is KeyStatus.COMPROMISED else "medium",
            fields={
                "share": share_id,
                "holder": row.holder,
                "from": current.value,
                "reason": reason,
            },
        ),
    )


def record_signatures(
    ctx: Context, session: Session, chain: str, txid: str, signatures: Sequence[EcdsaSignature]
) -> int:
    """Keep the signatures our keys made (from `ChainAdapter.signatures`) for the self-test."""
    added = 0
    for sig in signatures:
        pub, digest = sig.public_key.hex(), sig.digest.hex()
        exists = session.execute(
            select(SignatureLogRow.id).where(
                SignatureLogRow.public_key == pub, SignatureLogRow.digest == digest
            )
        ).first()
        if exists:
            continue
        session.add(
            SignatureLogRow(
                chain=chain,
                txid=txid,
                public_key=pub,
                r=f"{sig.r:064x}",
                s=f"{sig.s:064x}",
                digest=digest,
                recorded_at=ctx.clock.now(),
            )
        )
        added += 1
    return added


def import_chain_signatures(
    ctx: Context, adapter: EthereumAdapter, addresses: Sequence[str], cursor: str | None
) -> tuple[int, int, str]:
    """Backfill the signature log from the node: (added, skipped non-1559 txs, next cursor)."""
    history, skipped, new_cursor = adapter.signed_history(addresses, cursor)
    added = 0
    with ctx.db.transaction() as session:
        for txid, signatures in history:
            added += record_signatures(ctx, session, adapter.family, txid, signatures)
    return added, skipped, new_cursor


class Freezer(Protocol):
    """Freezes through the freeze service (the composition root wires `kinko.policy`'s in:
    custody does not import policy). `scope`: ``wallet`` or ``chain``; the freeze's id."""

    def __call__(
        self, session: Session, scope: str, target: str, *, reason: str, actor: str
    ) -> str: ...


@dataclass(frozen=True, slots=True)
class NonceReport:
    scanned: int
    findings: tuple[Finding, ...]
    frozen: tuple[str, ...] = ()  # "scope:target" of each freeze a failed test set

    @property
    def passed(self) -> bool:
        return not self.findings


def _eth_address(public_key: str) -> str | None:
    try:
        return PublicKey.from_compressed_bytes(bytes.fromhex(public_key)).to_address().lower()
    except (ValueError, EthKeysValidationError):
        return None


def _targets(session: Session, finding: Finding) -> list[tuple[str, str]]:
    """What a finding freezes: every wallet whose key share or (Ethereum) address is one of
    its keys; the chain itself when no wallet is known for a key (fail closed)."""
    found: list[tuple[str, str]] = []
    wallets = list(session.execute(select(WalletRow)).scalars())
    for sig in finding.signatures:
        held = session.execute(
            select(KeyShareRow.wallet_id).where(KeyShareRow.public_key == sig.public_key)
        ).scalars()
        ids = set(held)
        address = _eth_address(sig.public_key) if sig.chain == "ethereum" else None
        ids |= {w.id for w in wallets if address and (w.address or "").lower() == address}
        found += [("wallet", w) for w in sorted(ids)] or [("chain", sig.chain)]
    return list(dict.fromkeys(found))


def nonce_check(ctx: Context, *, actor: str, freeze: Freezer) -> NonceReport:
    """Scan every recorded signature for repeated r; audit the result; on a finding freeze
    the wallets of the keys at once (through `freeze`, in the audit's transaction: no
    monitor needed) and alert. Fail closed: a key no wallet is known for freezes its chain."""
    frozen: list[str] = []
    with ctx.db.transaction() as session:
        records = [
            SignatureRecord(r.chain, r.txid, r.public_key, int(r.r, 16), int(r.s, 16), r.digest)
            for r in session.execute(select(SignatureLogRow)).scalars()
        ]
        findings = tuple(find_repeated_r(records))
        ctx.audit.append(
            session,
            actor=actor,
            action="custody.nonce_check." + ("failed" if findings else "passed"),
            subject="signature_log",
            details={"scanned": len(records), "findings": [f.to_json() for f in findings]},
        )
        for finding in findings:
            for scope, target in _targets(session, finding):
                if f"{scope}:{target}" in frozen:
                    continue
                reason = (
                    f"nonce self-test failed ({finding.kind.value}, r={finding.r:064x}): a "
                    "key may be recoverable from its signatures; rotate it before lifting"
                )
                freeze(session, scope, target, reason=reason, actor=actor)
                frozen.append(f"{scope}:{target}")
    for finding in findings:
        ctx.bus.publish(
            SecurityEvent(
                type="custody.nonce_reuse",
                time=ctx.clock.now(),
                actor=actor,
                severity="critical",
                outcome="failure",
                fields={**finding.to_json(), "frozen": list(frozen)},
            )
        )
    return NonceReport(len(records), findings, tuple(frozen))
