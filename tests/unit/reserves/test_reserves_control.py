"""Proof of control of reserve addresses: made, imported and checked offline."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_hash.auto import keccak

from kinko.core.errors import InputError, IntegrityError
from kinko.reserves import control, ownership
from kinko.reserves.verify import verify_document
from tests.unit.reserves.sample import sample

S = sample()
KEY = bytes([0x44]) * 32
ADDRESS = Account.from_key(KEY).address
DIGEST = S.roots.digest()


def _signed(snapshot_id: str = "snap-1", key: bytes = KEY) -> bytes:
    text = ownership.statement(snapshot_id, S.roots.nonce, DIGEST, "ethereum", ADDRESS.lower())
    return bytes(Account.sign_message(encode_defunct(text=text), key).signature)


def _document(*controls: ownership.Control) -> dict[str, Any]:
    return S.document("alice", controls)


def test_keccak256_is_ethereums() -> None:
    for size in (0, 1, 135, 136, 137, 500):
        data = os.urandom(size)
        assert ownership.keccak256(data) == keccak(data)


def test_a_signature_made_offline_is_imported_and_verified_in_the_proof() -> None:
    proven = control.from_signature(_signed(), "snap-1", S.roots.nonce, DIGEST, ADDRESS)
    result = verify_document(_document(proven), S.vkey)
    assert result.controls == (("ethereum", ADDRESS.lower()),)


def test_a_held_key_signs_its_own_address_only() -> None:
    made = control.sign(KEY, "snap-1", S.roots.nonce, DIGEST, ADDRESS)
    assert made is not None and made.address == ADDRESS.lower()
    assert control.sign(bytes([0x45]) * 32, "snap-1", S.roots.nonce, DIGEST, ADDRESS) is None


@pytest.mark.parametrize(
    "signature",
    [_signed("snap-2"), _signed(key=bytes([0x45]) * 32), bytes(65)],
    ids=["another snapshot", "another key", "zeros"],
)
def test_a_signature_that_does_not_recover_the_address_is_refused(signature: bytes) -> None:
    with pytest.raises(InputError, match="does not recover") as caught:
        control.from_signature(signature, "snap-1", S.roots.nonce, DIGEST, ADDRESS)
    assert caught.value.field == "signature"


def test_a_signature_file_must_hold_65_bytes_of_hex_or_one_line_of_bip322() -> None:
    assert control.parse_signature(" 0x" + "ab" * 65 + "\n") == b"\xab" * 65
    assert control.parse_signature("smpAkcwRA==\n") == b"smpAkcwRA=="  # checked on import
    for bad in ("0x" + "ab" * 64, "smp AkcwRA==", "", "\u00e9" * 10):
        with pytest.raises(InputError, match="130 hex digits"):
            control.parse_signature(bad)
    with pytest.raises(InputError, match="65 bytes") as caught:
        control.from_signature(b"zz" * 65, "snap-1", S.roots.nonce, DIGEST, ADDRESS)
    assert caught.value.field == "signature"


def _tampered(change: Any) -> dict[str, Any]:
    proven = control.from_signature(_signed(), "snap-1", S.roots.nonce, DIGEST, ADDRESS)
    doc = _document(proven)
    change(doc["controls"][0])
    return doc


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda c: c.update(address="0x" + "11" * 20), "not this address's"),
        (lambda c: c.update(public_key="22" * 64), "not this address's|not this address"),
        (
            lambda c: c.update(signature=c["signature"][:2] + "00" + c["signature"][4:]),
            "signature",
        ),
        (lambda c: c.update(signature=c["signature"][:-2]), "65 bytes"),
        (lambda c: c.update(scheme="bip322"), "scheme"),
        (lambda c: c.update(chain="bitcoin"), "on bitcoin with 'bip322'"),
    ],
    ids=["address", "public key", "signature", "truncated", "scheme", "chain"],
)
def test_the_verifier_refuses_a_forged_control(change: Any, match: str) -> None:
    with pytest.raises(IntegrityError, match=match):
        verify_document(_tampered(change), S.vkey)


def test_a_control_of_another_snapshot_is_refused_by_the_verifier() -> None:
    other = control.from_signature(_signed("snap-2"), "snap-2", S.roots.nonce, DIGEST, ADDRESS)
    with pytest.raises(IntegrityError, match="not this address's statement for snapshot snap-1"):
        verify_document(_document(other), S.vkey)


def test_a_proof_without_its_controls_list_fails_closed() -> None:
    doc = _document()
    del doc["controls"]
    with pytest.raises(IntegrityError, match="controls must be a list"):
        verify_document(json.loads(json.dumps(doc)), S.vkey)
