"""BIP-322 generic signed messages, verified (pure; standard library and `cryptography`).

Follows BIP-322 2.0.0 ("Full", "Simple", "Verification Process"), section by section below.
Supported (the exchange's wallets and single-key segwit wallets), on bc, tb and bcrt:
P2WPKH; P2WSH whose witness script is a bare multisig ``OP_m <n compressed keys> OP_n
OP_CHECKMULTISIG`` (wsh(multi), wsh(sortedmulti)), 1 <= m <= n <= 16, checked as
CHECKMULTISIG does with exactly m signatures; P2TR key path (BIP-340/341). Signatures:
``smp`` + base64 (simple), ``ful`` + base64 (full, one input), or unprefixed base64 (read as
simple, BIP "Compatibility"). Everything else is refused as `Unsupported` (the BIP's
"inconclusive"): legacy and P2SH addresses, proof of funds (``pof``), taproot script paths
and annexes, any other witness script, witness versions above 1.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from kinko.core.errors import IntegrityError
from kinko.reserves import ripemd160, segwit
from kinko.reserves.secp256k1 import ecdsa_verify, schnorr_verify, tagged_hash
from kinko.reserves.segwit import compact

TAG = "BIP0322-signed-message"
SIGHASH_ALL = 0x01
_ONE_OP_RETURN = b"\x01" + bytes(8) + b"\x01\x6a"  # one output: 0 sat, OP_RETURN
_OP_CHECKMULTISIG = 0xAE


class Invalid(IntegrityError):
    """BIP-322 "invalid": some check failed."""


class Unsupported(IntegrityError):
    """BIP-322 "inconclusive": a script or format this verifier does not check."""


@dataclass(frozen=True, slots=True)
class Valid:
    """BIP-322 "valid at time T and age S": ``lock_time`` T, ``sequence`` S."""

    kind: str  # "p2wpkh", "p2wsh-multisig" or "p2tr"
    variant: str  # "simple" or "full"
    lock_time: int
    sequence: int


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def message_hash(message: bytes) -> bytes:
    """ "Full": ``message_hash``, the BIP-340 tagged hash of the message as is."""
    return tagged_hash(TAG, message)


def script_pubkey(address: str) -> bytes:
    """``message_challenge``: the address's scriptPubKey (native segwit only)."""
    try:
        return segwit.script_pubkey(address)
    except segwit.NotSegwit as exc:
        raise Unsupported(exc.message) from None
    except IntegrityError as exc:
        raise Invalid(exc.message) from None


def to_spend(message: bytes, challenge: bytes) -> bytes:
    """ "Full": ``to_spend``, serialised without witness (its txid is `sha256d` of it)."""
    script_sig = b"\x00\x20" + message_hash(message)  # OP_0 PUSH32[message_hash]
    vin = bytes(32) + b"\xff\xff\xff\xff" + compact(len(script_sig)) + script_sig + bytes(4)
    vout = bytes(8) + compact(len(challenge)) + challenge
    return bytes(4) + b"\x01" + vin + b"\x01" + vout + bytes(4)


@dataclass(frozen=True, slots=True)
class ToSign:
    """ "Full": ``to_sign``, one input spending to_spend:0, one output (0, OP_RETURN)."""

    prevout: bytes  # to_spend's txid (internal byte order) and index 0: 36 bytes
    witness: list[bytes]
    version: int = 0
    sequence: int = 0
    lock_time: int = 0

    def serialize(self, *, witness: bool = True) -> bytes:
        head = self.version.to_bytes(4, "little") + (b"\x00\x01" if witness else b"")
        vin = b"\x01" + self.prevout + b"\x00" + self.sequence.to_bytes(4, "little")
        tail = segwit.vector(self.witness) if witness else b""
        return head + vin + _ONE_OP_RETURN + tail + self.lock_time.to_bytes(4, "little")

    def segwit_v0_digest(self, script_code: bytes) -> bytes:
        """BIP-143 signature hash of input 0 (amount 0), SIGHASH_ALL."""
        seq = self.sequence.to_bytes(4, "little")
        return sha256d(
            self.version.to_bytes(4, "little") + sha256d(self.prevout) + sha256d(seq)
            + self.prevout + compact(len(script_code)) + script_code + bytes(8) + seq
            + sha256d(_ONE_OP_RETURN[1:]) + self.lock_time.to_bytes(4, "little")
            + SIGHASH_ALL.to_bytes(4, "little")
        )  # fmt: skip

    def taproot_digest(self, challenge: bytes, hash_type: int) -> bytes:
        """BIP-341 "Common signature message" of input 0, key path, no annex."""
        sha = hashlib.sha256
        return tagged_hash(
            "TapSighash",
            bytes([0, hash_type]) + self.version.to_bytes(4, "little")
            + self.lock_time.to_bytes(4, "little") + sha(self.prevout).digest()
            + sha(bytes(8)).digest() + sha(compact(len(challenge)) + challenge).digest()
            + sha(self.sequence.to_bytes(4, "little")).digest() + sha(_ONE_OP_RETURN[1:]).digest()
            + bytes(5),  # spend_type 0 (key path, no annex), input index 0
        )  # fmt: skip


def unsigned(challenge: bytes, message: bytes) -> ToSign:
    """ "Signing" 1: ``to_sign`` with its default fields and no witness yet."""
    return ToSign(sha256d(to_spend(message, challenge)) + bytes(4), [])


def _decode(text: str, prevout: bytes) -> tuple[ToSign, str]:
    """ "Verification Process" 1.2: ``s`` decoded as ``to_sign`` (a simple signature is
    its witness, every other field default; a full one is checked field by field)."""
    variant = {"smp": "simple", "ful": "full", "pof": "pof"}.get(text[:3], "")
    if variant == "pof":
        raise Unsupported("proof-of-funds signatures (pof) are not supported")
    try:
        raw = base64.b64decode(text[3:] if variant else text, validate=True)
    except binascii.Error:
        raise Invalid("the signature is not base64 (after its smp or ful prefix)") from None
    if not raw:
        raise Invalid("the signature is empty")
    r = segwit.Reader(raw, f"{variant or 'simple'} signature")
    try:
        if variant != "full":
            tx = ToSign(prevout, r.stack())
            r.end()
            return tx, "simple"
        version = r.number(4)
        if r.take(2) != b"\x00\x01":
            raise Invalid("the full signature is not a transaction with a witness")
        if r.compact() != 1:
            raise Unsupported("to_sign must have exactly one input (proof of funds is not checked)")
        spent, script_sig, sequence = r.take(36), r.take(r.compact()), r.number(4)
        if spent != prevout:
            raise Invalid("to_sign does not spend to_spend: another message or address was signed")
        if script_sig:
            raise Unsupported("a scriptSig on to_sign (P2SH-wrapped) is not supported")
        if r.take(len(_ONE_OP_RETURN)) != _ONE_OP_RETURN:
            raise Invalid("to_sign must have exactly one output: 0 sat to OP_RETURN")
        tx = ToSign(prevout, r.stack(), version, sequence, r.number(4))
        r.end()
    except (Invalid, Unsupported):
        raise
    except IntegrityError as exc:
        raise Invalid(exc.message) from None
    return tx, "full"


def _ecdsa(sig: bytes, key: bytes, digest: bytes) -> str | None:
    """Required rules (3): SIGHASH_ALL only, strict DER, low S, a compressed key."""
    if not sig:
        return "it is empty"
    if sig[-1] != SIGHASH_ALL:
        return f"its sighash flag 0x{sig[-1]:02x} is not SIGHASH_ALL"
    return ecdsa_verify(key, sig[:-1], digest)


def multisig(script: bytes) -> tuple[int, list[bytes]]:
    """m and the keys of ``OP_m <33-byte keys> OP_n OP_CHECKMULTISIG``; Unsupported else."""
    n = (len(script) - 3) // 34
    keys = [script[2 + 34 * i : 35 + 34 * i] for i in range(n)]
    m = script[0] - 0x50 if script else 0
    if (
        not 1 <= m <= n <= 16 or len(script) != 3 + 34 * n or script[-1] != _OP_CHECKMULTISIG
        or script[-2] != 0x50 + n or any(script[1 + 34 * i] != 0x21 for i in range(n))
    ):  # fmt: skip
        raise Unsupported("the witness script is not a bare m-of-n multisig (1 <= m <= n <= 16)")
    return m, keys


def _p2wsh_multisig(tx: ToSign, program: bytes) -> None:
    w = tx.witness
    if len(w) < 2 or hashlib.sha256(w[-1]).digest() != program:
        raise Invalid("the witness script is not the address's (P2WSH)")
    m, keys = multisig(w[-1])
    if w[0] != b"":
        raise Invalid("CHECKMULTISIG's dummy element must be empty (NULLDUMMY)")
    sigs, digest, at = w[1:-1], tx.segwit_v0_digest(w[-1]), 0
    if len(sigs) != m:
        raise Invalid(f"{len(sigs)} signatures; the {m}-of-{len(keys)} script needs {m}")
    for i, sig in enumerate(sigs):  # CHECKMULTISIG: each signature by a later key
        while True:
            if len(keys) - at < m - i:
                raise Invalid(f"signature {i + 1} verifies under none of the remaining keys")
            why, at = _ecdsa(sig, keys[at], digest), at + 1
            if why is None:
                break
            if "does not verify" not in why:
                raise Invalid(f"signature {i + 1}: {why}")


def verify(address: str, message: bytes, signature: str) -> Valid:
    """ "Verification Process" of ``signature`` by ``address`` over ``message``."""
    challenge = script_pubkey(address)  # 1.1: to_spend from m and A
    tx, variant = _decode(signature.strip(), unsigned(challenge, message).prevout)  # 1.2
    # 4 (upgradeable rules, checked first: they make the rest moot).
    if tx.version not in (0, 2):
        raise Unsupported(f"to_sign's version is {tx.version}; BIP-322 allows 0 or 2")
    if challenge[0] > 0x51:
        raise Unsupported("witness versions above 1 are not supported (upgradeable rule)")
    # 2 and 3: scripts understood; required rules (sighash, DER, low S, CLEANSTACK).
    w, program = tx.witness, challenge[2:]
    if challenge[0] == 0 and len(program) == 20:
        if len(w) != 2:
            raise Invalid(f"a P2WPKH witness has 2 items, not {len(w)}")
        if ripemd160.digest(hashlib.sha256(w[1]).digest()) != program:
            raise Invalid("the witness's public key is not the address's")
        why = _ecdsa(w[0], w[1], tx.segwit_v0_digest(b"\x76\xa9\x14" + program + b"\x88\xac"))
        if why:
            raise Invalid(f"the signature does not verify: {why}")
        return Valid("p2wpkh", variant, tx.lock_time, tx.sequence)
    if challenge[0] == 0:
        _p2wsh_multisig(tx, program)
        return Valid("p2wsh-multisig", variant, tx.lock_time, tx.sequence)
    if len(program) != 32:
        raise Unsupported("a witness v1 program that is not 32 bytes (not P2TR)")
    if len(w) != 1:
        raise Unsupported("taproot script paths and annexes are not supported (key path only)")
    sig = w[0]
    if len(sig) not in (64, 65) or (len(sig) == 65 and sig[64] != SIGHASH_ALL):
        raise Invalid("a Schnorr signature is 64 bytes, or 65 ending in SIGHASH_ALL (0x01)")
    digest = tx.taproot_digest(challenge, SIGHASH_ALL if len(sig) == 65 else 0)
    if not schnorr_verify(program, digest, sig[:64]):
        raise Invalid("the signature does not verify: the Schnorr signature is not the key's")
    return Valid("p2tr", variant, tx.lock_time, tx.sequence)


def encode_simple(witness: list[bytes]) -> str:
    """ "Signing": a simple signature, ``smp`` and the base64 of the witness stack."""
    return "smp" + base64.b64encode(segwit.vector(witness)).decode()
