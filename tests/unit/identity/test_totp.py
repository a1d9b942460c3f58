"""RFC 6238 Appendix B test vectors (tests/vectors/rfc6238_totp.json) and the pure rules."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kinko.core.errors import AuthenticationError
from kinko.identity import totp

VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors" / "rfc6238_totp.json").read_text(encoding="utf-8")
)
ROWS = [(row["time"], alg, row[alg]) for row in VECTORS["vectors"] for alg in VECTORS["seeds"]]


@pytest.mark.parametrize(("unix", "alg", "expected"), ROWS)
def test_rfc6238_appendix_b_vectors(unix: int, alg: str, expected: str) -> None:
    import hashlib

    import pyotp

    seed = base64.b32encode(VECTORS["seeds"][alg].encode()).decode()
    now = datetime.fromtimestamp(unix, UTC)
    # Our step arithmetic (RFC 6238 §4.2) picks the counter; pyotp computes HOTP on it.
    step = totp.step_at(now)
    assert step == unix // VECTORS["step_seconds"]
    digest = getattr(hashlib, alg.lower())
    assert pyotp.TOTP(seed, digits=8, digest=digest).at(step * 30) == expected


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
