"""Merkle-sum tree hashing for proof of liabilities (pure; standard library only).

The offline verifier (`kinko.reserves.verify`) imports this module, so it imports nothing
but the standard library and `kinko.core.errors`.

Design, and the papers it follows:

* Every node hashes **both children's hashes and both children's sums**,
  ``H("R1" || h_l || s_l || h_r || s_r)``, and its own sum is ``s_l + s_r``. The original
  summation tree hashed only the parent's total, which lets an exchange shift value between
  siblings and prove a smaller total (Hu, Zhang and Guo, "Breaking the Binding", IACR ePrint
  2018/1139, §3, and their fix in §4); Chalkias, Chatzigiannis and Ji, "Broken Proofs of
  Solvency in Blockchain Custodial Wallets and Exchanges" (FC 2022 workshops) list the same
  flaw, and negative or overflowing sums, in deployed verifiers. Summa (PSE) and DAPOL+ (Ji
  and Chalkias, "Generalized Proof of Liabilities", CCS 2021, IACR ePrint 2021/1350) hash
  both children's values the same way.
* Sums are unsigned 128-bit integers written big-endian in 16 bytes; a value outside
  ``[0, 2**128)`` is refused wherever it appears (no negative balance, no wrap-around).
* Hash inputs are domain-separated by a two-byte tag (``R0`` account leaf, ``R1`` node,
  ``R3`` padding leaf), distinct from RFC 9162's 0x00/0x01 so a reserves hash is never an
  audit-log hash.
* A leaf commits to an account without naming it: the exchange derives, per snapshot, an
  account key ``k = HMAC-SHA256(secret, "account key" || nonce || id)`` (DAPOL+'s
  ``w_u = KDF(M, id_u)``; BitMEX's per-account HMAC salt), and the leaf is
  ``H("R0" || nonce || asset || k || id || u128(balance))``. The customer, given ``k``,
  recomputes it from their own id and balance: two customers with equal balances never
  share a leaf, a leaf of one snapshot (nonce) is not one of another, and without ``k``
  nobody can test a guessed id or balance against a leaf.
* Padding leaves have sum 0 and hash ``H("R3" || padding key || u64(index))``, the padding
  key per asset and snapshot derived from the secret: to a customer, who knows neither
  preimage, a padding leaf's hash looks like any account's. Leaves are ordered by hash (a
  keyed pseudo-random order), so padding is spread through the tree.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from kinko.core.errors import IntegrityError

HASH_SIZE = 32
SUM_BYTES = 16
MAX_SUM = (1 << (8 * SUM_BYTES)) - 1
KEY_SIZE = 32
NONCE_SIZE = 16
MAX_HEIGHT = 40
"""2**40 leaves per asset: far beyond any exchange, small enough to bound a proof."""

LEAF_TAG = b"R0"
NODE_TAG = b"R1"
PADDING_TAG = b"R3"
ACCOUNT_KEY_LABEL = b"kinko reserves v1 account key\x00"
PADDING_KEY_LABEL = b"kinko reserves v1 padding key\x00"

_sha256 = hashlib.sha256


def sum_bytes(value: int, what: str = "sum") -> bytes:
    """``value`` as 16 big-endian bytes; IntegrityError outside ``[0, 2**128)``."""
    if type(value) is not int:
        raise IntegrityError(f"{what} {value!r} is not an integer")
    if value < 0:
        raise IntegrityError(f"{what} {value} is negative")
    if value > MAX_SUM:
        raise IntegrityError(f"{what} {value} overflows 128 bits")
    return value.to_bytes(SUM_BYTES, "big")


def _lp(data: bytes) -> bytes:
    """Length-prefixed (2 bytes, big-endian): variable fields never run into each other."""
    if len(data) > 0xFFFF:
        raise IntegrityError(f"a field of {len(data)} bytes is longer than 65535")
    return len(data).to_bytes(2, "big") + data


def leaf_hash(nonce: bytes, key: bytes, asset: str, account: str, value: int) -> bytes:
    """An account's leaf in the asset's tree (what the customer recomputes)."""
    return _sha256(
        leaf_prefix(nonce, asset) + opening(key, account) + sum_bytes(value, "leaf sum")
    ).digest()


def leaf_prefix(nonce: bytes, asset: str) -> bytes:
    """The start of every account leaf's input in one asset's tree."""
    return LEAF_TAG + nonce + _lp(asset.encode())


def opening(key: bytes, account: str) -> bytes:
    """The part of a leaf's input shared by every leaf of one account."""
    return key + _lp(account.encode())


def node_hash(left: bytes, left_sum: int, right: bytes, right_sum: int) -> bytes:
    return _sha256(
        NODE_TAG
        + left
        + sum_bytes(left_sum, "left sum")
        + right
        + sum_bytes(right_sum, "right sum")
    ).digest()


def account_key(secret: bytes, nonce: bytes, account: str) -> bytes:
    """The key a customer receives to open their leaves (HMAC of the snapshot secret)."""
    return hmac.digest(secret, ACCOUNT_KEY_LABEL + nonce + _lp(account.encode()), "sha256")


def account_keyer(secret: bytes, nonce: bytes) -> Callable[[str], bytes]:
    """`account_key` for many accounts: the same HMAC (RFC 2104), with the inner and outer
    hash states of the key (and the label and nonce) computed once, not per account."""
    padded = secret.ljust(64, b"\0") if len(secret) <= 64 else _sha256(secret).digest()
    padded = padded.ljust(64, b"\0")
    inner = _sha256(bytes(b ^ 0x36 for b in padded) + ACCOUNT_KEY_LABEL + nonce).copy
    outer = _sha256(bytes(b ^ 0x5C for b in padded)).copy

    def key(account: str) -> bytes:
        first = inner()
        first.update(_lp(account.encode()))
        second = outer()
        second.update(first.digest())
        return second.digest()

    return key


def padding_key(secret: bytes, nonce: bytes, asset: str) -> bytes:
    """One key per asset and snapshot; disclosing it opens that asset's padding only."""
    return hmac.digest(secret, PADDING_KEY_LABEL + nonce + _lp(asset.encode()), "sha256")


def padding_leaf(pad_key: bytes, index: int) -> bytes:
    return _sha256(PADDING_TAG + pad_key + index.to_bytes(8, "big")).digest()


def padded_height(leaves: int, floor: int = 1) -> int:
    """Height of the smallest power-of-two tree holding ``max(leaves, floor)`` leaves."""
    wanted = max(leaves, floor, 1)
    height = (wanted - 1).bit_length()
    if height > MAX_HEIGHT:
        raise IntegrityError(f"{wanted} leaves need a tree taller than {MAX_HEIGHT}")
    return height


def check_hash(value: bytes, what: str) -> bytes:
    if len(value) != HASH_SIZE:
        raise IntegrityError(f"{what} is {len(value)} bytes; a SHA-256 hash is {HASH_SIZE}")
    return value
