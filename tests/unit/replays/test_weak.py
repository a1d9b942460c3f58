"""The weak signer of the Upbit 2025 replay, and the thief's arithmetic (pure)."""

from __future__ import annotations

import pytest
from eth_keys import keys

from kinko.chains.ethereum import tx as txmod
from kinko.replays import weak

SECRET = (0xC0FFEE).to_bytes(32, "big")
SENDER = keys.PrivateKey(SECRET).public_key.to_checksum_address()


def unsigned(nonce: int) -> txmod.Eip1559Tx:
    return txmod.Eip1559Tx(1337, nonce, 10**9, 2 * 10**9, 21_000, b"\x11" * 20, 5)


def test_signatures_verify_and_a_repeated_nonce_gives_the_key_away() -> None:
    first = weak.sign_with_nonce(unsigned(0), SECRET, 0x5EED)
    second = weak.sign_with_nonce(unsigned(1), SECRET, 0x5EED)
    assert first.sender().lower() == SENDER.lower()  # a valid signature by that key
    assert first.signature is not None and second.signature is not None
    assert first.signature.r == second.signature.r
    assert first.signature.s <= weak.N // 2  # low-s (EIP-2)
    assert weak.recover_key(first, second, SENDER) == SECRET


def test_distinct_nonces_give_nothing_away() -> None:
    first = weak.sign_with_nonce(unsigned(0), SECRET, 0x5EED)
    second = weak.sign_with_nonce(unsigned(1), SECRET, 0x5EEE)
    with pytest.raises(ValueError, match="same r"):
        weak.recover_key(first, second, SENDER)


def test_kinkos_own_signing_matches_the_curve_arithmetic() -> None:
    point = weak.multiply(int.from_bytes(SECRET, "big"))
    assert point is not None
    public = keys.PrivateKey(SECRET).public_key.to_bytes()
    assert public == point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")
