"""RFC 6238 Appendix B test vectors (SHA-1 rows) and the pure verification rules."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from kinko.core.errors import AuthenticationError
from kinko.identity import totp

# RFC 6238 Appendix B: seed "12345678901234567890" (ASCII), SHA-1, 8 digits.
RFC_SEED = base64.b32encode(b"12345678901234567890").decode()
RFC_ROWS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
]


@pytest.mark.parametrize(("unix", "expected"), RFC_ROWS)
def test_rfc6238_appendix_b_vectors(unix: int, expected: str) -> None:
    import pyotp

    assert pyotp.TOTP(RFC_SEED, digits=8).at(unix) == expected
    # Our step arithmetic (RFC 6238 §4.2) picks the same counter as the reference.
    now = datetime.fromtimestamp(unix, UTC)
    assert totp.step_at(now) == unix // 30


def test_six_digit_code_verifies_and_returns_its_step() -> None:
    secret = totp.new_secret()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    step = totp.step_at(now)
    assert totp.verify_totp(secret, totp.code_at_step(secret, step), now=now, last_step=-1) == step


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12345a", "１２３４５６"])
def test_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(AuthenticationError):
        totp.verify_totp(totp.new_secret(), code, now=datetime.now(UTC), last_step=-1)


def test_replay_of_the_last_step_is_refused() -> None:
    secret = totp.new_secret()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    step = totp.step_at(now)
    with pytest.raises(AuthenticationError) as info:
        totp.verify_totp(secret, totp.code_at_step(secret, step), now=now, last_step=step)
    assert info.value.code == "totp_replayed"
