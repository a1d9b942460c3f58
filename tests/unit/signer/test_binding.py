"""The approval challenge, byte for byte as docs/bundle.md writes it, so that an
independent verifier can recompute it."""

from __future__ import annotations

import hashlib

import pytest

from kinko.signer.binding import approval_challenge, challenge_document

# The example of docs/bundle.md ("The approval challenge"), written out by hand.
DOCUMENT = (
    b'{"approver":"usr_01jc0000000000000000000000",'
    b'"digest":"1111111111111111111111111111111111111111111111111111111111111111",'
    b'"expires_at":"2026-11-21T10:00:00.000000Z",'
    b'"nonce":"IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI",'
    b'"type":"kinko.withdrawal-approval.v1",'
    b'"withdrawal":"wd_01jd0000000000000000000000"}'
)
CHALLENGE = "b78d68c67b0cfa1158287fc08d2499ba6d858610cded2b88f494384c9855fcbb"
FIELDS = {
    "withdrawal_id": "wd_01jd0000000000000000000000",
    "digest": bytes([0x11]) * 32,
    "expires_at": "2026-11-21T10:00:00.000000Z",
    "nonce": bytes([0x22]) * 32,
    "approver": "usr_01jc0000000000000000000000",
}


def test_the_documented_example() -> None:
    assert challenge_document(**FIELDS) == DOCUMENT  # type: ignore[arg-type]
    assert hashlib.sha256(DOCUMENT).hexdigest() == CHALLENGE
    assert approval_challenge(**FIELDS).hex() == CHALLENGE  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("withdrawal_id", "wd_01jd0000000000000000000001"),
        ("digest", bytes([0x12]) * 32),
        ("expires_at", "2026-11-21T10:00:00.000001Z"),
        ("nonce", bytes([0x23]) * 32),
        ("approver", "usr_01jc0000000000000000000001"),
    ],
)
def test_every_field_changes_the_challenge(field: str, value: object) -> None:
    changed = {**FIELDS, field: value}
    assert approval_challenge(**changed).hex() != CHALLENGE  # type: ignore[arg-type]


def test_malformed_digest_or_nonce_is_refused() -> None:
    with pytest.raises(ValueError, match="digest is 32 bytes"):
        challenge_document(**{**FIELDS, "digest": b"\x11" * 31})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nonce is 32 bytes"):
        challenge_document(**{**FIELDS, "nonce": b"\x22" * 16})  # type: ignore[arg-type]
