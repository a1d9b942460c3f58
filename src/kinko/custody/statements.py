"""Customer liabilities per account, as custody's own record: dated statements (service).

The exchange's ledger exports every account's balance per asset at a cut-off; Kinko imports
that file as a *statement* dated by the cut-off (`as_of`). An import is read a line at a
time (`kinko.custody.statement_rows`), checked row by row and inserted in batches, all in
the caller's one transaction: any bad row, an unknown asset, an account listing an asset
twice, an empty file or a cut-off in the future refuses the whole file and nothing stays
written. Each import is audited (`custody.liabilities.statement`: who, the cut-off, the
file's SHA-256, its row count and the totals per asset). The newest statement (by cut-off)
also sets custody's current liabilities per asset, which `kinko custody snapshot` keeps.

`statement_at(session, at)` answers "the liabilities at time T": the latest statement
whose cut-off is at or before T (a later import for the same cut-off, a correction, wins).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.errors import Conflict, InputError, NotFound
from kinko.core.ids import new_id
from kinko.custody import holdings
from kinko.custody.statement_drops import largest_drop, statement_event
from kinko.custody.statement_files import file_digest, open_rows
from kinko.custody.statement_rows import MAX_UNITS, Row, iso
from kinko.custody.wallets import assets
from kinko.store.dialect import locks_rows
from kinko.store.publish import publish_after_commit
from kinko.store.tables.custody import AssetRow
from kinko.store.tables.liabilities import (
    LiabilityBalanceRow,
    LiabilityStatementRow,
    LiabilityTotalRow,
)

AUDIT_ACTION = "custody.liabilities.statement"
DROP_WINDOW = timedelta(days=7)  # a fall is measured from the week's highest total
BATCH = 5_000
BALANCES = cast(Table, LiabilityBalanceRow.__table__)
_EXPORT = "export one row per account and asset held (account,asset,base_units) at the cut-off"


@dataclass(frozen=True, slots=True)
class Statement:
    """One imported statement: its cut-off, provenance and totals per asset."""

    id: str
    as_of: datetime
    imported_at: datetime
    imported_by: str
    source: str
    format: str
    digest: bytes
    rows: int
    holdings: int
    audit_seq: int
    totals: Mapping[str, int]
    holders: Mapping[str, int]

    def to_json(self, shown: set[str] | None = None) -> dict[str, Any]:
        """JSON (amounts as base-unit strings); `shown` limits the assets listed."""
        return {
            "id": self.id,
            "as_of": iso(self.as_of),
            "imported_at": iso(self.imported_at),
            "imported_by": self.imported_by,
            "source": self.source,
            "format": self.format,
            "digest": self.digest.hex(),
            "rows": self.rows,
            "holdings": self.holdings,
            "audit_seq": self.audit_seq,
            "totals": [
                {"asset": a, "base_units": str(u), "holders": self.holders[a]}
                for a, u in sorted(self.totals.items())
                if shown is None or a in shown
            ],
        }


def import_statement(
    ctx: Context,
    session: Session,
    path: Path,
    *,
    as_of: datetime,
    source: str,
    actor: str,
) -> Statement:
    """Import the file at `path` as the statement of cut-off `as_of`, in `session`'s
    transaction (the caller's: a refusal rolls every row back)."""
    now = ctx.clock.now()
    if as_of.tzinfo is None:
        raise InputError("as_of", "give the cut-off with its zone, e.g. 2026-12-07T00:00:00Z")
    if as_of > now:
        raise InputError(
            "as_of",
            f"{iso(as_of)} is in the future (now {iso(now)}): a statement gives balances at "
            "a cut-off that has passed; check the date and its time zone",
        )
    holdings.check_day(as_of.date(), "as_of")
    digest = file_digest(path)
    if path.stat().st_size == 0:
        raise InputError("file", f"{path.name} is empty (no rows): {_EXPORT}")
    again = session.execute(
        select(LiabilityStatementRow.id).where(
            LiabilityStatementRow.digest == digest, LiabilityStatementRow.as_of == as_of
        )
    ).scalar_one_or_none()
    if again is not None:
        raise Conflict(f"this file was already imported as statement {again} for {iso(as_of)}")
    known = set(assets(session))
    statement_id = new_id("lst")
    row = LiabilityStatementRow(
        id=statement_id,
        as_of=as_of,
        imported_at=now,
        imported_by=actor,
        source=source[:200] or "upload",
        format="csv",
        digest=digest,
        rows=0,
        holdings=0,
        audit_seq=0,
    )
    session.add(row)
    session.flush()  # the balances' foreign key needs it first
    totals: dict[str, int] = {}
    holders: dict[str, int] = {}
    read = 0
    batch: dict[tuple[str, str], Row] = {}
    with open_rows(path) as (fmt, rows):
        row.format = fmt
        for item in rows:
            read += 1
            if item.asset not in known:
                raise InputError(
                    f"statement line {item.line}: asset",
                    f"unknown asset {item.asset!r}: register it (kinko wallet asset-add) "
                    "or correct the key (chain:SYMBOL)",
                )
            if not item.base_units:
                continue  # zero balances are not kept (the trees are sparse)
            key = (item.asset, item.account)
            if key in batch:
                raise _twice(item)
            batch[key] = item
            total = totals.get(item.asset, 0) + item.base_units
            if total > MAX_UNITS:
                raise InputError(
                    f"statement line {item.line}: base_units",
                    f"the {item.asset} balances add up past 2**128 base units: check the file",
                )
            totals[item.asset] = total
            holders[item.asset] = holders.get(item.asset, 0) + 1
            if len(batch) >= BATCH:
                _insert(session, statement_id, batch)
                batch = {}
        _insert(session, statement_id, batch)
    if not read:
        raise InputError(
            "file",
            f"{path.name} has no rows after its header: {_EXPORT}",
        )
    row.rows, row.holdings = read, sum(holders.values())
    session.add_all(
        LiabilityTotalRow(statement_id=statement_id, asset=a, base_units=u, holders=holders[a])
        for a, u in sorted(totals.items())
    )
    record = ctx.audit.append(
        session,
        actor=actor,
        action=AUDIT_ACTION,
        subject=statement_id,
        details={
            "as_of": iso(as_of),
            "digest": digest.hex(),
            "format": fmt,
            "source": row.source,
            "rows": read,
            "holdings": row.holdings,
            "totals": {a: str(u) for a, u in sorted(totals.items())},
        },
    )
    row.audit_seq = record.seq
    session.flush()
    _tell_the_monitor(ctx, session, row, totals, actor)
    _set_current(ctx, session, row, totals, actor)
    return Statement(
        statement_id,
        as_of,
        now,
        actor,
        row.source,
        fmt,
        digest,
        read,
        row.holdings,
        record.seq,
        totals,
        holders,
    )


def _twice(item: Row) -> InputError:
    return InputError(
        f"statement line {item.line}: account",
        f"{item.account} lists {item.asset} a second time: the ledger must export one row per "
        "account and asset (add them up into one)",
    )


def _insert(session: Session, statement_id: str, batch: Mapping[tuple[str, str], Row]) -> None:
    """Insert a batch; an account and asset already inserted from an earlier batch (the
    primary key refuses it) is found and named by its line."""
    if not batch:
        return
    values = [
        {"statement_id": statement_id, "asset": a, "account": acc, "base_units": r.base_units}
        for (a, acc), r in batch.items()
    ]
    try:
        with session.begin_nested():
            session.connection().execute(BALANCES.insert(), values)
    except sa_exc.IntegrityError:
        accounts = {acc for _, acc in batch}
        found = session.execute(
            select(LiabilityBalanceRow.asset, LiabilityBalanceRow.account).where(
                LiabilityBalanceRow.statement_id == statement_id,
                LiabilityBalanceRow.account.in_(accounts),
            )
        )
        kept = {(asset, account) for asset, account in found}
        again = sorted((r for k, r in batch.items() if k in kept), key=lambda r: r.line)
        if not again:
            raise
        raise _twice(again[0]) from None


def _tell_the_monitor(
    ctx: Context,
    session: Session,
    row: LiabilityStatementRow,
    totals: Mapping[str, int],
    actor: str,
) -> None:
    """How far this statement's totals fell against the highest each asset had in the
    statement before it and in those of the week before its cut-off
    (`kinko.custody.statement_drops`), for the monitor, once the import commits. The
    week's highest, not only the last: one importer posting many statements, each a
    little lower, must not walk liabilities down unseen."""
    earlier = select(LiabilityStatementRow.id).where(LiabilityStatementRow.as_of < row.as_of)
    previous = session.execute(
        earlier.order_by(
            LiabilityStatementRow.as_of.desc(), LiabilityStatementRow.imported_at.desc()
        ).limit(1)
    ).scalar_one_or_none()
    week = earlier.where(LiabilityStatementRow.as_of >= row.as_of - DROP_WINDOW)
    before: dict[str, int] = {}
    for asset, units in session.execute(
        select(LiabilityTotalRow.asset, LiabilityTotalRow.base_units).where(
            LiabilityTotalRow.statement_id.in_(week) | (LiabilityTotalRow.statement_id == previous)
        )
    ).all():
        before[asset] = max(before.get(asset, 0), int(units))
    event = statement_event(
        statement_id=row.id,
        as_of=row.as_of,
        actor=actor,
        previous_id=previous,
        drop=largest_drop(before, totals),
        now=ctx.clock.now(),
    )
    publish_after_commit(session, ctx.bus, event)


def _set_current(
    ctx: Context,
    session: Session,
    row: LiabilityStatementRow,
    totals: Mapping[str, int],
    actor: str,
) -> None:
    """The newest statement by cut-off sets custody's current liabilities per asset (an
    asset it does not list is owed 0); an older one, imported late, changes nothing.
    Concurrent imports take this step one at a time (the asset rows' locks, where the
    engine has row locks), so the one that decides sees the other's statement."""
    if locks_rows(session):
        session.execute(select(AssetRow.id).with_for_update()).all()
    newer = session.execute(
        select(LiabilityStatementRow.id)
        .where(LiabilityStatementRow.as_of > row.as_of, LiabilityStatementRow.id != row.id)
        .limit(1)
    ).first()
    if newer is not None:
        return
    owed = {asset: 0 for asset in holdings.liabilities(session)}
    owed.update(totals)
    holdings.set_liabilities(ctx, session, owed, source=f"statement:{row.id}", actor=actor)


def statement_at(session: Session, at: datetime) -> Statement:
    """The latest statement whose cut-off is at or before `at`; NotFound if none."""
    found = session.execute(
        select(LiabilityStatementRow)
        .where(LiabilityStatementRow.as_of <= at)
        .order_by(LiabilityStatementRow.as_of.desc(), LiabilityStatementRow.audit_seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(
            f"no liabilities statement at or before {iso(at)}; import the ledger's statement "
            "with `kinko liabilities import FILE --as-of T`"
        )
    return _described(session, found)


def statement(session: Session, statement_id: str) -> Statement:
    found = session.get(LiabilityStatementRow, statement_id)
    if found is None:
        raise NotFound(f"no liabilities statement {statement_id!r}")
    return _described(session, found)


def list_statements(session: Session, *, limit: int = 100) -> list[Statement]:
    """The latest statements by cut-off, newest first."""
    found = session.execute(
        select(LiabilityStatementRow)
        .order_by(LiabilityStatementRow.as_of.desc(), LiabilityStatementRow.audit_seq.desc())
        .limit(limit)
    ).scalars()
    return [_described(session, r) for r in found]


def balances(session: Session, statement_id: str) -> Iterator[tuple[str, str, int]]:
    """Every (account, asset, base units) of a statement, fetched in batches."""
    found = session.execute(
        select(
            LiabilityBalanceRow.account, LiabilityBalanceRow.asset, LiabilityBalanceRow.base_units
        )
        .where(LiabilityBalanceRow.statement_id == statement_id)
        .execution_options(yield_per=BATCH)
    )
    for account, asset, units in found:
        yield account, asset, int(units)


def account_balances(session: Session, statement_id: str, account: str) -> dict[str, int]:
    """What one account was owed per asset in a statement (nothing: an empty dict)."""
    found = session.execute(
        select(LiabilityBalanceRow.asset, LiabilityBalanceRow.base_units).where(
            LiabilityBalanceRow.statement_id == statement_id,
            LiabilityBalanceRow.account == account,
        )
    )
    return {asset: int(units) for asset, units in found}


def _described(session: Session, row: LiabilityStatementRow) -> Statement:
    kept = session.execute(
        select(LiabilityTotalRow).where(LiabilityTotalRow.statement_id == row.id)
    ).scalars()
    totals, holders = {}, {}
    for t in kept:
        totals[t.asset], holders[t.asset] = int(t.base_units), t.holders
    return Statement(
        row.id,
        row.as_of,
        row.imported_at,
        row.imported_by,
        row.source,
        row.format,
        row.digest,
        row.rows,
        row.holdings,
        row.audit_seq,
        totals,
        holders,
    )
