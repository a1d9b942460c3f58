"""Self-inspection tables (issue #16): the daily evidence snapshots, the governance register,
the runs kept with their report files (issue #17)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, UTCDateTime


class InspectionSnapshotRow(Base):
    """One day's evidence snapshot (kinko.inspection.snapshot): one per UTC day.

    `document` is the zlib-compressed canonical JSON whose SHA-256 is `digest`; the audit
    entry `audit_seq` (action ``inspection.snapshot``) holds the same digest."""

    __tablename__ = "inspection_snapshots"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD UTC
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    origin: Mapped[str] = mapped_column(String(16), nullable=False)  # taken | backfilled
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)  # bytes of canonical JSON
    document: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    imported_from: Mapped[str | None] = mapped_column(String(500))
    audit_seq: Mapped[int] = mapped_column(Integer, nullable=False)


class RegisterRecordRow(Base):
    """One version of one governance-register record (kinko.inspection.register).

    Append-only: a change adds the record's next version (`removed` for a removal, with no
    document); the current record of a (kind, key) is its highest version. `digest` is the
    SHA-256 of the document's canonical JSON, `proposal_id` the four-eyes proposal that
    made it, `audit_seq` its ``inspection.register_change`` audit entry."""

    __tablename__ = "register_records"
    __table_args__ = (UniqueConstraint("kind", "key", "version"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    key: Mapped[str] = mapped_column(String(1600), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    digest: Mapped[str | None] = mapped_column(String(64))
    proposal_id: Mapped[str] = mapped_column(String(40), nullable=False)
    proposed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    approved_by: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    audit_seq: Mapped[int] = mapped_column(Integer, nullable=False)


class RegisterAttachmentRow(Base):
    """A file attached to register records, stored once by its SHA-256 under the data
    directory (``register/attachments/<sha256>``, mode 0600); records name the digest."""

    __tablename__ = "register_attachments"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    stored_by: Mapped[str] = mapped_column(String(200), nullable=False)
    audit_seq: Mapped[int] = mapped_column(Integer, nullable=False)


class InspectionRunRow(Base):
    """One inspection run kept by Kinko (kinko.inspection.stored_runs): asked for from the
    console, the API or ``kinko inspect run``, its state, and once done its report's digest
    and ``inspection.run`` audit entry. `running_key` (framework and period) is set only
    while it runs: unique, so the same run is never started twice at once, in any process."""

    __tablename__ = "inspection_runs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    framework: Mapped[str] = mapped_column(String(8), nullable=False)
    period_from: Mapped[str] = mapped_column(String(10), nullable=False)
    period_to: Mapped[str] = mapped_column(String(10), nullable=False)
    formats: Mapped[str] = mapped_column(String(64), nullable=False)  # json,html,pdf,oscal
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # running | done | failed
    running_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    requested_by: Mapped[str] = mapped_column(String(200), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report: Mapped[str | None] = mapped_column(String(200))
    digest: Mapped[str | None] = mapped_column(String(64))
    audit_seq: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(2000))


class InspectionArtefactRow(Base):
    """A report file's bytes, stored once by their SHA-256 (a byte-identical rerun's report
    is one row); `digest` is what the run's signed note and, for the JSON report, its audit
    entry hold."""

    __tablename__ = "inspection_artefacts"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class InspectionRunFileRow(Base):
    """A run's file of one kind (json, html, pdf, oscal, sig, proof): its name as signed,
    media type and the digest of its bytes in `inspection_artefacts`."""

    __tablename__ = "inspection_run_files"
    run_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("inspection_runs.id"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    media_type: Mapped[str] = mapped_column(String(64), nullable=False)
    digest: Mapped[str] = mapped_column(
        String(64), ForeignKey("inspection_artefacts.digest"), nullable=False
    )
    size: Mapped[int] = mapped_column(Integer, nullable=False)
