"""Login throttling per account and per source address, with lockout.

Counters live in the database so that every worker process sees the same ones. A locked
key refuses sign-in with the same generic message as a wrong credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kinko.store.tables.identity import AuthThrottleRow


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    per_account: int = 5
    per_source: int = 20


DEFAULT_POLICY = ThrottlePolicy()


def throttle_keys(username: str, source_ip: str | None) -> list[str]:
    keys = [f"user:{username.lower()}"]
    if source_ip:
        keys.append(f"ip:{source_ip}")
    return keys


def locked_keys(session: Session, keys: list[str], now: datetime) -> list[str]:
    out = []
    for key in keys:
        row = session.get(AuthThrottleRow, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            out.append(key)
    return out


def record_failure(
    session: Session, keys: list[str], now: datetime, policy: ThrottlePolicy = DEFAULT_POLICY
) -> list[str]:
    """Count one failure against each key; returns the keys this failure locked."""
    newly_locked = []
    for key in keys:
        limit = policy.per_account if key.startswith("user:") else policy.per_source
        row = _counter(session, key, now)
        if now - row.window_start > policy.window:
            row.failures, row.window_start = 0, now
        row.failures += 1
        if row.failures >= limit and (row.locked_until is None or row.locked_until <= now):
            row.locked_until = now + policy.lockout
            newly_locked.append(key)
    return newly_locked


def _counter(session: Session, key: str, now: datetime) -> AuthThrottleRow:
    """The locked counter row for `key`, created if missing.

    Two first failures for the same key can race to insert it (PostgreSQL); the loser's
    savepoint rolls back and it locks the winner's row instead.
    """
    row = session.get(AuthThrottleRow, key, with_for_update=True)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = AuthThrottleRow(key=key, failures=0, window_start=now, locked_until=None)
            session.add(row)
    except IntegrityError:
        row = session.get(AuthThrottleRow, key, with_for_update=True, populate_existing=True)
        if row is None:
            raise
    return row


def reset(session: Session, key: str) -> None:
    row = session.get(AuthThrottleRow, key, with_for_update=True)
    if row is not None:
        row.failures, row.locked_until = 0, None
