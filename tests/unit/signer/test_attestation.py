"""The server attestation of a TOTP approval: an HMAC over every bound field."""

from __future__ import annotations

import pytest

from kinko.signer.attestation import attest, attestation_valid

KEY = bytes(range(32))
FIELDS = {
    "withdrawal_id": "wd_1",
    "digest_hex": "ab" * 32,
    "approver": "usr_bob",
    "time": "2026-11-21T09:00:00Z",
}


def test_a_genuine_attestation_verifies() -> None:
    mac = attest(KEY, **FIELDS)
    assert len(mac) == 64 and attestation_valid(KEY, mac, **FIELDS)


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_changing_any_bound_field_breaks_it(name: str) -> None:
    mac = attest(KEY, **FIELDS)
    assert not attestation_valid(KEY, mac, **{**FIELDS, name: FIELDS[name] + "0"})


def test_another_key_or_a_shifted_boundary_breaks_it() -> None:
    mac = attest(KEY, **FIELDS)
    assert not attestation_valid(bytes(32), mac, **FIELDS)
    shifted = {**FIELDS, "withdrawal_id": "wd_1a", "digest_hex": FIELDS["digest_hex"][1:]}
    assert attest(KEY, **shifted) != mac
    assert not attestation_valid(KEY, "not hex ☃", **FIELDS)
