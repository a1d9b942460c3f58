"""Proof-of-reserves snapshots on the database (service).

`build` makes a snapshot from the exchange's ledger of customer balances, checked against
custody's liabilities and reserves kept for the same day (`kinko custody snapshot`), and
records its roots' digest in the audit log in the same transaction (fail closed). `prove`
rebuilds the trees of one account's assets from the stored holdings, checks them against
the stored roots, and writes the account's proof document with the audit entry's
inclusion proof into a freshly signed checkpoint.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from kinko.audit.checkpoint import parse_body
from kinko.audit.note import parse_note
from kinko.context import Context
from kinko.core.errors import Conflict, InputError, IntegrityError, NotFound
from kinko.custody import statements
from kinko.custody.coldshare import BalanceMatrix
from kinko.custody.holdings import snapshot_positions
from kinko.identity.secretbox import SecretBox
from kinko.reserves import control, controls, ownership, proof, snapshot
from kinko.reserves import roots as roots_mod
from kinko.reserves.controls import Reserve
from kinko.reserves.coverage import Coverage, cover
from kinko.reserves.roots import AssetRoot, Roots
from kinko.reserves.source import Source, check_totals
from kinko.store.tables.reserves import (
    ReserveControlRow,
    ReserveHoldingRow,
    ReserveRootRow,
    ReserveSnapshotRow,
)

HOLDINGS = cast(Table, ReserveHoldingRow.__table__)
CLEAR_SECRET = 32
"""A snapshot secret stored before sealing: its 32 bytes in clear (`seal_clear` seals)."""
SEAL_ACTION = "reserves.secret.seal"


@dataclass(frozen=True, slots=True)
class Built:
    id: str
    day: str
    roots: Roots
    coverage: tuple[Coverage, ...]
    audit_seq: int
    unproven: tuple[Reserve, ...] = ()
    source: Source | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.coverage)


class ReservesService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def build(
        self,
        rows: Iterable[tuple[str, str, int]],
        *,
        day: date,
        floor: int = 1,
        actor: str,
        where: str = "ledger line",
        key_for: Callable[[str], bytes] | None = None,
        source_digest: bytes | None = None,
    ) -> Built:
        """Build, check and record a snapshot from a ledger file's rows (``source_digest``:
        the file's SHA-256, recorded); a shortfall is recorded, not hidden.
        ``key_for`` (a wallet id's key, from Kinko's keystore) signs the proofs of control
        of the hot wallets it holds keys for; other addresses are proven with `attest`."""
        holdings = snapshot.Holdings.parse(rows, where=where, start=2)
        source = Source(None, source_digest)
        return self._build(holdings, day, floor, actor, key_for, source)

    def build_from_custody(
        self,
        *,
        at: datetime,
        day: date | None = None,
        floor: int = 1,
        actor: str,
        key_for: Callable[[str], bytes] | None = None,
    ) -> Built:
        """Build from custody's liabilities at `at` (the latest statement at or before it,
        `kinko.custody.statements`), against the custody snapshot of `day` (default: the
        UTC day of `at`); the statement's id and digest are recorded and audited."""
        with self.ctx.db.reading() as session:
            found = statements.statement_at(session, at)
            rows = statements.balances(session, found.id)
            holdings = snapshot.Holdings.parse(rows, where="statement row")
        source = Source(found.id, found.digest)
        return self._build(
            holdings, day or at.astimezone(UTC).date(), floor, actor, key_for, source
        )

    def _build(  # noqa: PLR0917 - one private step of the two public builds
        self,
        holdings: snapshot.Holdings,
        day: date,
        floor: int,
        actor: str,
        key_for: Callable[[str], bytes] | None,
        source: Source,
    ) -> Built:
        secret, nonce = os.urandom(32), os.urandom(16)
        box = self._box()  # refused before anything is written if the key is unusable
        with self.ctx.db.transaction() as session:
            owed, matrix = _custody_day(session, day)
            trees = snapshot.build(holdings, secret, nonce, floor=floor, assets=owed)
            roots = trees.roots()
            check_totals(roots, owed, day, source)
            snapshot_id = f"{day.isoformat()}.{os.urandom(4).hex()}"
            wallets = controls.sign_held(
                controls.candidates(session, matrix), key_for, snapshot_id, nonce, roots.digest()
            )
            reserves = controls.proven_reserves(matrix, wallets)
            coverage = cover(owed, {a: reserves.get(a, 0) for a in owed})
            short = [c.asset for c in coverage if not c.passed]
            record = self.ctx.audit.append(
                session,
                actor=actor,
                action=proof.AUDIT_ACTION,
                subject=snapshot_id,
                details={
                    "day": day.isoformat(),
                    "nonce": nonce.hex(),
                    "roots": roots.digest().hex(),
                    "assets": len(roots.assets),
                    "short": short,
                    "unproven": [r.wallet_id for r in controls.unproven(wallets)],
                    **source.details(),
                },
            )
            session.add(
                ReserveSnapshotRow(
                    id=snapshot_id,
                    day=day.isoformat(),
                    taken_at=self.ctx.clock.now(),
                    nonce=nonce,
                    secret=box.seal(secret, context=_sealed_for(snapshot_id)),
                    floor=floor,
                    roots_digest=roots.digest(),
                    passed=not short,
                    audit_seq=record.seq,
                    created_by=actor,
                    statement_id=source.statement,
                    source_digest=source.digest,
                )
            )
            session.flush()
            controls.record(self.ctx, session, snapshot_id, wallets, actor)
            session.add_all(
                ReserveRootRow(
                    snapshot_id=snapshot_id,
                    asset=r.asset,
                    height=r.height,
                    root=r.root,
                    total=r.total,
                    reserves=reserves.get(r.asset, 0),
                )
                for r in roots.assets
            )
            held = (
                {"snapshot_id": snapshot_id, "asset": asset, "account": a, "base_units": u}
                for asset, (accounts, units) in holdings.by_asset.items()
                for a, u in zip(accounts, units, strict=True)
            )
            while batch := list(itertools.islice(held, statements.BATCH)):  # not all at once
                session.connection().execute(HOLDINGS.insert(), batch)
        return Built(
            snapshot_id,
            day.isoformat(),
            roots,
            coverage,
            record.seq,
            controls.unproven(wallets),
            source,
        )

    def statement(self, snapshot_id: str, address: str) -> str:
        """The text ``address``'s key must sign (EIP-191, BIP-322) to prove control for a
        snapshot."""
        with self.ctx.db.reading() as session:
            row = self._snapshot(session, snapshot_id)
            kept = self._control(session, row, address)
            return control.statement(
                row.id, row.nonce, row.roots_digest, kept.chain, (kept.address or "").lower()
            )

    def psbt(self, snapshot_id: str, address: str) -> str:
        """The BIP-322 PSBT (base64) a Bitcoin descriptor wallet's cosigners sign for a
        snapshot; `attest` imports the signed ones."""
        with self.ctx.db.reading() as session:
            row = self._snapshot(session, snapshot_id)
            kept = self._control(session, row, address)
            return controls.bitcoin_psbt(session, kept, row.id, row.nonce, row.roots_digest)

    def attest(self, snapshot_id: str, address: str, signature: bytes, *, actor: str) -> Built:
        """Import ``address``'s signed statement for a snapshot (checked: it must recover
        the address), audit it, and count that wallet's balance as reserves from now on."""
        with self.ctx.db.transaction() as session:
            row = self._snapshot(session, snapshot_id)
            kept = self._control(session, row, address)
            if kept.signature is not None:
                raise Conflict(f"{address} already proved control for snapshot {row.id}")
            checked = control.from_signature(
                signature, row.id, row.nonce, row.roots_digest, kept.address or "", chain=kept.chain
            )
            controls.prove(self.ctx, session, kept, checked, actor)
            session.flush()
            matrix, _ = snapshot_positions(session, date.fromisoformat(row.day))
            wallets = controls.stored(session, row.id)
            reserves = controls.proven_reserves(matrix, wallets)
            roots = _roots(session, row)
            for kept_root in session.execute(
                select(ReserveRootRow).where(ReserveRootRow.snapshot_id == row.id)
            ).scalars():
                kept_root.reserves = reserves.get(kept_root.asset, 0)
            coverage = cover(
                {r.asset: r.total for r in roots.assets},
                {r.asset: reserves.get(r.asset, 0) for r in roots.assets},
            )
            row.passed = all(c.passed for c in coverage)
            return Built(
                row.id, row.day, roots, coverage, row.audit_seq, controls.unproven(wallets)
            )

    def seal_clear(self, *, actor: str) -> list[str]:
        """Seal the secrets of snapshots stored before sealing (in clear), each audited;
        the ids sealed (none: nothing to do)."""
        box = self._box()
        sealed = []
        with self.ctx.db.transaction() as session:
            for row in session.execute(select(ReserveSnapshotRow)).scalars():
                if len(row.secret) == CLEAR_SECRET:
                    row.secret = box.seal(row.secret, context=_sealed_for(row.id))
                    self.ctx.audit.append(
                        session, actor=actor, action=SEAL_ACTION, subject=row.id, details={}
                    )
                    sealed.append(row.id)
        return sealed

    def _box(self) -> SecretBox:
        return SecretBox.from_file(self.ctx.settings.resolved_secret_key_path)

    def _secret(self, row: ReserveSnapshotRow) -> bytes:
        if len(row.secret) == CLEAR_SECRET:
            raise IntegrityError(
                f"snapshot {row.id}'s secret is stored in clear (built before secrets were "
                "sealed); run `kinko reserves seal` once, then prove again"
            )
        return self._box().open(row.secret, context=_sealed_for(row.id))

    @staticmethod
    def _control(session: Session, row: ReserveSnapshotRow, address: str) -> ReserveControlRow:
        rows = {
            r.wallet_id: r
            for r in session.execute(
                select(ReserveControlRow).where(ReserveControlRow.snapshot_id == row.id)
            ).scalars()
        }
        kept = controls.by_address(rows, address)
        if kept is None:
            listed = ", ".join(sorted(r.address for r in rows.values() if r.address)) or "none"
            raise InputError(
                "address",
                f"{address} is not a reserve address of snapshot {row.id} (its addresses: "
                f"{listed})",
            )
        if kept.chain not in ownership.CHAINS:
            raise InputError(
                "address",
                f"{kept.chain} addresses have no proof of control here; they are not "
                "counted as reserves",
            )
        return kept

    def prove(self, account: str, snapshot_id: str | None = None, *, binary: bool = False) -> bytes:
        """The account's proof document (JSON bytes, or the compact binary proof) for a
        snapshot (default: the latest)."""
        with self.ctx.db.transaction() as session:
            row = self._snapshot(session, snapshot_id)
            stored = _roots(session, row)
            held = {
                asset: int(units)
                for asset, units in session.execute(
                    select(ReserveHoldingRow.asset, ReserveHoldingRow.base_units).where(
                        ReserveHoldingRow.snapshot_id == row.id,
                        ReserveHoldingRow.account == account,
                    )
                )
            }
            assets = sorted(held)
            if not assets:
                raise NotFound(f"account {account!r} holds nothing in snapshot {row.id}")
            found = session.execute(
                select(
                    ReserveHoldingRow.account, ReserveHoldingRow.asset, ReserveHoldingRow.base_units
                ).where(
                    ReserveHoldingRow.snapshot_id == row.id, ReserveHoldingRow.asset.in_(assets)
                )
            )
            rows = [(a, s, int(u)) for a, s, u in found]
            trees = snapshot.build(
                snapshot.Holdings.parse(rows), self._secret(row), row.nonce, floor=row.floor
            )
            for asset in assets:
                built, kept = trees.trees[asset], stored.get(asset)
                if (built.root, built.total, built.height) != (kept.root, kept.total, kept.height):
                    raise IntegrityError(
                        f"snapshot {row.id}: the stored {asset} holdings no longer make the "
                        "recorded root; they were changed after the snapshot was built"
                    )
            note = self.ctx.audit.checkpoint(session)
            size = parse_body(parse_note(note).text).size
            entry = self.ctx.audit.entry(session, row.audit_seq).entry
            hashes = tuple(self.ctx.audit.inclusion_proof(session, row.audit_seq, size))
            proven = [r.control for r in controls.stored(session, row.id) if r.control]
        audit = proof.AuditInclusion(entry, row.audit_seq, hashes, note)
        envelope = proof.Envelope.of(row.id, stored, audit, proven)
        if binary:
            leaves = trees.leaves(account, held)
            return envelope.encode_binary(account, trees.keys[account], leaves)
        return envelope.encode(
            account, trees.keys[account], proof.account_paths(trees, account, held)
        )

    def coverage(
        self, snapshot_id: str | None = None
    ) -> tuple[str, tuple[Coverage, ...], tuple[Reserve, ...]]:
        """A stored snapshot's id, its proven reserves against liabilities per asset, and
        the reserve wallets without a proof of control (not counted)."""
        with self.ctx.db.reading() as session:
            row = self._snapshot(session, snapshot_id)
            kept = session.execute(
                select(ReserveRootRow)
                .where(ReserveRootRow.snapshot_id == row.id)
                .order_by(ReserveRootRow.asset)
            ).scalars()
            coverage = tuple(Coverage(r.asset, r.total, r.reserves) for r in kept)
            return row.id, coverage, controls.unproven(controls.stored(session, row.id))

    @staticmethod
    def _snapshot(session: Session, snapshot_id: str | None) -> ReserveSnapshotRow:
        if snapshot_id is not None:
            row = session.get(ReserveSnapshotRow, snapshot_id)
        else:
            latest = select(ReserveSnapshotRow).order_by(ReserveSnapshotRow.taken_at.desc())
            row = session.execute(latest.limit(1)).scalar_one_or_none()
        if row is None:
            which = "no snapshot yet" if snapshot_id is None else f"no snapshot {snapshot_id!r}"
            raise NotFound(f"{which}; build one with `kinko reserves build`")
        return row


def _sealed_for(snapshot_id: str) -> str:
    """The sealed secret's associated data: it opens on its own snapshot's row only."""
    return f"kinko reserves snapshot secret {snapshot_id}"


def _custody_day(session: Session, day: date) -> tuple[dict[str, int], BalanceMatrix]:
    """Custody's liabilities per asset and every wallet's balances kept for ``day``."""
    matrix, owed = snapshot_positions(session, day)
    if not owed:
        raise NotFound(
            f"no custody liabilities kept for {day.isoformat()}; import that day's liabilities "
            f"before `kinko custody snapshot --day {day.isoformat()}`"
        )
    return owed, matrix


def _roots(session: Session, row: ReserveSnapshotRow) -> Roots:
    kept = session.execute(
        select(ReserveRootRow).where(ReserveRootRow.snapshot_id == row.id)
    ).scalars()
    roots = roots_mod.make(row.nonce, [AssetRoot(r.asset, r.height, r.root, r.total) for r in kept])
    if roots.digest() != row.roots_digest:
        raise IntegrityError(f"snapshot {row.id}: the stored roots differ from those logged")
    return roots
