"""Screening tables: list versions with provenance, their entries, alerts and review cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, UTCDateTime


class ScreeningListVersionRow(Base):
    """One loaded version of one list. Exactly one version per list is active."""

    __tablename__ = "screening_list_versions"
    __table_args__ = (
        # At most one active version per list, enforced by the database itself.
        Index(
            "uq_screening_list_versions_active",
            "list_name",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    list_name: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    format: Mapped[str] = mapped_column(String(32), nullable=False)
    source: Mapped[str] = mapped_column(String(500), nullable=False)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    entity_count: Mapped[int] = mapped_column(Integer, nullable=False)
    address_count: Mapped[int] = mapped_column(Integer, nullable=False)
    counts_by_chain: Mapped[dict[str, int]] = mapped_column(JSON, nullable=False)
    unknown_tickers: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    invalid_addresses: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, index=True)
    # Provenance and the four-eyes state (kinko.screening.model.VersionStatus): a version
    # that changes its list's format or publisher, or shrinks it, waits as "proposed".
    publisher: Mapped[str] = mapped_column(String(100), nullable=False)
    loaded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    proposal_id: Mapped[str | None] = mapped_column(String(64))


class ScreeningEntityRow(Base):
    __tablename__ = "screening_entities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(
        ForeignKey("screening_list_versions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    ref: Mapped[str] = mapped_column(String(200), nullable=False)
    name: Mapped[str] = mapped_column(String(1000), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    aliases: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    programs: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    birth_dates: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    nationalities: Mapped[list[str]] = mapped_column(JSON, nullable=False)


class ScreeningAddressRow(Base):
    __tablename__ = "screening_addresses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(
        ForeignKey("screening_list_versions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    chain: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(400), nullable=False, index=True)
    raw: Mapped[str] = mapped_column(String(300), nullable=False)
    ticker: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_ref: Mapped[str] = mapped_column(String(200), nullable=False)
    valid: Mapped[bool] = mapped_column(Boolean, nullable=False)


class ScreeningAlertRow(Base):
    """A hit found by re-screening (or a name hit sent to review), raised once per target."""

    __tablename__ = "screening_alerts"
    __table_args__ = (UniqueConstraint("dedup_key"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(64), nullable=False)
    target_kind: Mapped[str] = mapped_column(String(64), nullable=False)
    target_ref: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    list_name: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_ref: Mapped[str] = mapped_column(String(200), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ScreeningCaseRow(Base):
    """A name hit waiting for (or given) a reviewer's decision (kinko.screening.cases):
    one per subject (name, date of birth, nationality) and set of list versions."""

    __tablename__ = "screening_cases"
    __table_args__ = (UniqueConstraint("case_key"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_key: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(500), nullable=False)
    dob: Mapped[str | None] = mapped_column(String(10))
    nationality: Mapped[str | None] = mapped_column(String(100))
    requested_by: Mapped[str] = mapped_column(String(200), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    # The people (user ids) who asked for this screening: none of them may decide it.
    askers: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    hits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    list_versions: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    threshold: Mapped[float] = mapped_column(Float, nullable=False)
    decision: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(4000))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
