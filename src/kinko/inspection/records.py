"""Reading what a run needs besides the snapshots from the store (service): the governance
register's versions with when each applied, accounts with their sign-in days, and the
signature log, each up to the end of the period (a record written later does not change a
report of the period: the same data and period give the same bytes)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.core.errors import IntegrityError
from kinko.inspection.history import Activity, RegisterHistory, Signature, Version, activity
from kinko.inspection.register import parse_kind
from kinko.inspection.register_changes import parse_record, record_digest
from kinko.store.tables.custody import SignatureLogRow
from kinko.store.tables.identity import ConsoleSessionRow, UserRow
from kinko.store.tables.inspection import RegisterRecordRow


def end_of(day: date) -> datetime:
    """The first instant after `day` (UTC)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def register_history(session: Session, end: date) -> RegisterHistory:
    """Every register version applied on or before `end`, each record's digest checked."""
    rows = session.execute(
        select(RegisterRecordRow)
        .where(RegisterRecordRow.recorded_at < end_of(end))
        .order_by(RegisterRecordRow.recorded_at, RegisterRecordRow.version)
    ).scalars()
    versions = []
    for r in rows:
        kind = parse_kind(r.kind)
        record = None
        if not r.removed and r.document is not None:
            record = parse_record(kind, r.document, where=f"register[{r.kind}/{r.key}]")
            if record_digest(record) != r.digest:
                raise IntegrityError(
                    f"register record {r.kind}/{r.key} version {r.version} does not match "
                    "its digest: it was altered after it was approved"
                )
        versions.append(Version(kind, r.key, r.version, r.recorded_at, record, r.digest))
    return RegisterHistory(tuple(versions))


def accounts(session: Session, end: date) -> dict[str, Activity]:
    """Per user id: the day the account was created and the days a session began."""
    bound = end_of(end)
    signed: dict[str, set[date]] = defaultdict(set)
    sessions = session.execute(
        select(ConsoleSessionRow.user_id, ConsoleSessionRow.created_at).where(
            ConsoleSessionRow.created_at < bound
        )
    )
    for user_id, created in sessions:
        signed[user_id].add(created.astimezone(UTC).date())
    users = session.execute(select(UserRow.id, UserRow.created_at))
    return {
        user_id: activity(created.astimezone(UTC).date(), signed.get(user_id, ()))
        for user_id, created in users
    }


def signatures(session: Session, end: date) -> tuple[Signature, ...]:
    rows = session.execute(
        select(SignatureLogRow)
        .where(SignatureLogRow.recorded_at < end_of(end))
        .order_by(SignatureLogRow.id)
    ).scalars()
    return tuple(
        Signature(
            r.chain, r.txid, r.public_key, r.r, r.s, r.digest, r.recorded_at.astimezone(UTC).date()
        )
        for r in rows
    )
