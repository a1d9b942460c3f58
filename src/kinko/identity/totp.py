"""TOTP verification (RFC 6238) with a ±1 step window and single use.

Pure: the caller passes `now` and the last accepted time step, and stores the step this
returns; a code whose step is not later than the last accepted one is a replay.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

from kinko.core.errors import AuthenticationError

STEP_SECONDS = 30  # RFC 6238 §4.1 X
DIGITS = 6
WINDOW = 1  # RFC 6238 §5.2: accept one step of network/clock delay either side


def new_secret() -> str:
    """A 160-bit base32 secret (RFC 4226 §4 R6 recommends 160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, *, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def step_at(now: datetime) -> int:
    """RFC 6238 §4.2: T = floor((unix time - T0) / X), T0 = 0."""
    return int(now.timestamp()) // STEP_SECONDS


def code_at_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * STEP_SECONDS)


def verify_totp(secret: str, code: str, *, now: datetime, last_step: int) -> int:
    """Return the matched time step, or raise `AuthenticationError` (generic on purpose).

    Every candidate step is compared in constant time, and all of them are compared, so
    the time taken does not tell which step matched.
    """
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        raise AuthenticationError("invalid credentials")
    current = step_at(now)
    matched: int | None = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(code_at_step(secret, step), code) and matched is None:
            matched = step
    if matched is None:
        raise AuthenticationError("invalid credentials")
    if matched <= last_step:
        raise AuthenticationError("invalid credentials", code="totp_replayed")
    return matched
