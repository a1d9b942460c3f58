"""What the self-inspection reads of the stored snapshots (CUS-05): each snapshot's result
per asset and its audit entries. Light on purpose (no signing or tree code): an inspection
run imports it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.reserves.coverage import Coverage, Outcome
from kinko.store.tables.reserves import ReserveControlRow, ReserveRootRow, ReserveSnapshotRow


def outcomes(session: Session, start: date, end: date) -> tuple[Outcome, ...]:
    """The snapshots whose custody day is in ``[start, end]``, by day then id, with their
    stored result (proven reserves against liabilities per asset) and audit entries."""
    rows = session.execute(
        select(ReserveSnapshotRow)
        .where(
            ReserveSnapshotRow.day >= start.isoformat(), ReserveSnapshotRow.day <= end.isoformat()
        )
        .order_by(ReserveSnapshotRow.day, ReserveSnapshotRow.id)
    ).scalars()
    out = []
    for row in rows:
        kept = session.execute(
            select(ReserveRootRow)
            .where(ReserveRootRow.snapshot_id == row.id)
            .order_by(ReserveRootRow.asset)
        ).scalars()
        proofs = session.execute(
            select(ReserveControlRow.audit_seq)
            .where(
                ReserveControlRow.snapshot_id == row.id, ReserveControlRow.audit_seq.is_not(None)
            )
            .order_by(ReserveControlRow.audit_seq)
        ).scalars()
        out.append(
            Outcome(
                row.id,
                date.fromisoformat(row.day),
                row.audit_seq,
                row.roots_digest.hex(),
                tuple(Coverage(r.asset, r.total, r.reserves) for r in kept),
                tuple(seq for seq in proofs if seq is not None),
            )
        )
    return tuple(out)
