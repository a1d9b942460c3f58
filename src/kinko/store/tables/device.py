"""Device-login requests (RFC 8628 device authorization grant, adapted): `kinko login`
asks, a signed-in person approves in the console with a fresh WebAuthn assertion.

Only a hash of the device code is kept; the session the grant issues is an ordinary
``console_sessions`` row (kind ``cli``), created when the CLI collects it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kinko.store.base import Base, UTCDateTime


class DeviceAuthorizationRow(Base):
    __tablename__ = "device_authorizations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the device code
    user_code: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    client: Mapped[str] = mapped_column(String(200), nullable=False)
    source_ip: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    interval_s: Mapped[int] = mapped_column(Integer, nullable=False)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # pending -> approved -> issued, or pending -> denied
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_ip: Mapped[str | None] = mapped_column(String(64))
    challenge_id: Mapped[str | None] = mapped_column(String(64))
    session_id: Mapped[str | None] = mapped_column(String(64))


class TokenRequestRow(Base):
    """`kinko token create` of a privileged token, confirmed in the console (device-flow
    style): the CLI of the owner asks with the token's exact terms, the owner confirms them
    with a fresh WebAuthn assertion bound to them, the CLI collects the token text once."""

    __tablename__ = "token_requests"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the request code
    user_code: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    permissions: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    assets: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    ip_allowlist: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    ttl_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    client: Mapped[str] = mapped_column(String(200), nullable=False)
    source_ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    interval_s: Mapped[int] = mapped_column(Integer, nullable=False)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # pending -> approved -> issued, or pending -> denied
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_ip: Mapped[str | None] = mapped_column(String(64))
    challenge_id: Mapped[str | None] = mapped_column(String(64))
    token_id: Mapped[str | None] = mapped_column(String(64))
