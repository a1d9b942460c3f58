"""Making and importing proofs of control of reserve addresses (pure; `eth_account`).

A hot wallet whose key Kinko holds signs its statement at build (`sign`); any other
address's key signs it offline (``cast wallet sign``, a hardware wallet's "sign message":
EIP-191 ``personal_sign`` of the exact text of `statement`) and the signature is imported
(`from_signature`). Either way the result is checked as the offline verifier checks it
(`kinko.reserves.ownership.check`) before it is stored.
"""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys.datatypes import PrivateKey, Signature

from kinko.core.errors import InputError, IntegrityError
from kinko.reserves import ownership
from kinko.reserves.ownership import Control, statement

__all__ = ["Control", "from_signature", "parse_signature", "sign", "statement"]


def sign(
    key: bytes, snapshot_id: str, nonce: bytes, roots_digest: bytes, address: str
) -> Control | None:
    """The statement signed with ``key``; None if the key is not ``address``'s."""
    private = PrivateKey(key)
    public = private.public_key
    if public.to_checksum_address().lower() != address.lower():
        return None
    text = statement(snapshot_id, nonce, roots_digest, "ethereum", address.lower())
    signed = Account.sign_message(encode_defunct(text=text), private_key=key)
    control = Control("ethereum", address.lower(), public.to_bytes(), bytes(signed.signature))
    ownership.check(control, snapshot_id, nonce, roots_digest)
    return control


def parse_signature(text: str) -> bytes:
    """65 bytes from a signature file's hex (``0x`` optional, surrounding space ignored)."""
    value = text.strip()
    value = value[2:] if value[:2].lower() == "0x" else value
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != ownership.SIGNATURE_SIZE:
        raise InputError(
            "signature",
            "must be a 65-byte EIP-191 signature as 130 hex digits (0x optional), as "
            "`cast wallet sign` or a wallet's personal_sign writes it",
        )
    return raw


def from_signature(
    signature: bytes, snapshot_id: str, nonce: bytes, roots_digest: bytes, address: str
) -> Control:
    """The address's proof of control from its signature; InputError if the signature
    recovers another address (the wrong text, snapshot or key was signed)."""
    address = ownership.normal_address(address, "address")
    text = statement(snapshot_id, nonce, roots_digest, "ethereum", address)
    message = encode_defunct(text=text)
    try:
        recovered = Account.recover_message(message, signature=signature)
    except Exception:  # eth_account raises several types for a malformed signature
        recovered = ""
    if recovered.lower() != address:
        raise InputError(
            "signature",
            f"does not recover {address} for snapshot {snapshot_id}: sign exactly the "
            "statement `kinko reserves attest --show` prints, with that address's key",
        )
    v = signature[64]
    normal = signature[:64] + bytes([v - 27 if v >= 27 else v])
    digest = ownership.eip191_digest(text)
    public = Signature(normal).recover_public_key_from_msg_hash(digest)
    control = Control("ethereum", address, public.to_bytes(), signature)
    try:
        ownership.check(control, snapshot_id, nonce, roots_digest)
    except IntegrityError as exc:
        raise InputError("signature", exc.message) from None
    return control
