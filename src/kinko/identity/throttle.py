"""Sign-in throttling per account and per source address, with growing delays.

Each key (``user:<name>``, ``ip:<address>``) counts failed sign-ins. The first few are
free; each one after that makes the key wait, twice as long as the one before (1 s, 2 s,
4 s, … up to `max_delay`). Nothing is ever locked: a key's counter starts again after
`quiet` with no failure, and a sign-in with a valid WebAuthn assertion is verified even
while its keys wait (an assertion cannot be guessed, so throttling it would only let
anyone who knows a username lock that person out). Guessable factors (TOTP and recovery
codes) are refused unverified while a key waits.

Counters live in the database so that every worker process sees the same ones. The
`auth_throttle` columns: `failures` (since the counter last started), `window_start` (the
time of the last failure), `locked_until` (the end of the current wait, if any).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kinko.store.tables.identity import AuthThrottleRow


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    quiet: timedelta = timedelta(hours=1)  # no failure for this long: the counter restarts
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=15)
    free_per_account: int = 4  # the 5th failure for one account waits 1 s, the 6th 2 s, …
    free_per_source: int = 19  # the 20th failure from one address waits 1 s, …

    def delay(self, key: str, failures: int) -> timedelta:
        """How long `key` waits after its `failures`-th failure (zero while free)."""
        free = self.free_per_account if key.startswith("user:") else self.free_per_source
        beyond = failures - free
        if beyond <= 0:
            return timedelta(0)
        # 2**40 s is far past any cap: stop doubling there (no overflow).
        doubled: timedelta = self.base_delay * (2 ** min(beyond - 1, 40))
        return min(doubled, self.max_delay)


DEFAULT_POLICY = ThrottlePolicy()


def throttle_keys(username: str, source_ip: str | None) -> list[str]:
    keys = [f"user:{username.lower()}"]
    if source_ip:
        keys.append(f"ip:{source_ip}")
    return keys


def waiting(session: Session, keys: Sequence[str], now: datetime) -> dict[str, datetime]:
    """The keys that must wait now, each with the end of its wait."""
    out = {}
    for key in keys:
        row = session.get(AuthThrottleRow, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            out[key] = row.locked_until
    return out


def locked_keys(session: Session, keys: list[str], now: datetime) -> list[str]:
    """The keys that must wait now (kept for callers that only need to know which)."""
    return list(waiting(session, keys, now))


def retry_after(until: datetime | None, now: datetime) -> int:
    """Whole seconds until `until` (at least 1): the Retry-After a waiting key gets."""
    if until is None or until <= now:
        return 0
    return max(1, math.ceil((until - now).total_seconds()))


def record_failure(
    session: Session, keys: list[str], now: datetime, policy: ThrottlePolicy = DEFAULT_POLICY
) -> dict[str, datetime]:
    """Count one failure against each key; returns the keys that must now wait, each with
    the end of its wait (a later failure makes it longer)."""
    waits: dict[str, datetime] = {}
    for key in keys:
        row = _counter(session, key, now)
        if now - row.window_start > policy.quiet:
            row.failures = 0
        row.failures += 1
        row.window_start = now
        delay = policy.delay(key, row.failures)
        if delay:
            # A failure while waiting extends the wait from now: hammering never pays.
            row.locked_until = max(now + delay, row.locked_until or now)
            waits[key] = row.locked_until
        elif row.locked_until is not None and row.locked_until > now:
            waits[key] = row.locked_until
    return waits


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
