"""Signature checks on secp256k1 for BIP-322 (pure; standard library and `cryptography`).

ECDSA: `cryptography` verifies; the encoding rules Bitcoin adds are checked here first
(BIP-66 strict DER, low S, a 33-byte compressed public key). Schnorr (BIP-340), which
`cryptography` does not offer, is BIP-340's reference ``schnorr_verify`` in integer
arithmetic (Jacobian coordinates). Both check public data only: no secret is involved,
so nothing here needs to run in constant time.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)
Jacobian = tuple[int, int, int]
_INFINITY: Jacobian = (0, 1, 0)


def tagged_hash(tag: str, data: bytes) -> bytes:
    """BIP-340 "Design": SHA-256(SHA-256(tag) || SHA-256(tag) || data)."""
    tag_hash = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(tag_hash + tag_hash + data).digest()


def strict_der(sig: bytes) -> tuple[int, int] | None:
    """(r, s) of a BIP-66 strictly DER-encoded signature (no sighash byte), else None."""
    if not 8 <= len(sig) <= 72 or sig[0] != 0x30 or sig[1] != len(sig) - 2:
        return None
    if sig[2] != 0x02:
        return None
    len_r = sig[3]
    if len_r == 0 or 5 + len_r >= len(sig) or sig[4 + len_r] != 0x02:
        return None
    len_s = sig[5 + len_r]
    if len_s == 0 or 6 + len_r + len_s != len(sig):
        return None
    r, s = sig[4 : 4 + len_r], sig[6 + len_r :]
    for part in (r, s):  # no negative number, no needless leading zero
        if part[0] & 0x80 or (len(part) > 1 and part[0] == 0 and not part[1] & 0x80):
            return None
    return int.from_bytes(r, "big"), int.from_bytes(s, "big")


def ecdsa_verify(public_key: bytes, der: bytes, digest: bytes) -> str | None:
    """None if ``der`` (DER, no sighash byte) signs the 32-byte ``digest`` under the
    compressed ``public_key``; otherwise why not."""
    if len(public_key) != 33 or public_key[0] not in (2, 3):
        return "the public key is not a 33-byte compressed key"
    rs = strict_der(der)
    if rs is None:
        return "the signature is not strictly DER-encoded (BIP-66)"
    r, s = rs
    if not (0 < r < N and 0 < s <= N // 2):
        return "the signature's S is not low (or r, s out of range)"
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), public_key)
        key.verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except (InvalidSignature, ValueError):
        return "the ECDSA signature does not verify"
    return None


def _double(p: Jacobian) -> Jacobian:
    x, y, z = p
    if z == 0 or y == 0:
        return _INFINITY
    yy = y * y % P
    s = 4 * x * yy % P
    m = 3 * x * x % P
    nx = (m * m - 2 * s) % P
    return nx, (m * (s - nx) - 8 * yy * yy) % P, 2 * y * z % P


def _add(p: Jacobian, q: Jacobian) -> Jacobian:
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    z1z1, z2z2 = p[2] * p[2] % P, q[2] * q[2] % P
    u1, u2 = p[0] * z2z2 % P, q[0] * z1z1 % P
    s1, s2 = p[1] * z2z2 * q[2] % P, q[1] * z1z1 * p[2] % P
    if u1 == u2:
        return _double(p) if s1 == s2 else _INFINITY
    h, r = (u2 - u1) % P, (s2 - s1) % P
    hh = h * h % P
    hhh, v = h * hh % P, u1 * hh % P
    nx = (r * r - hhh - 2 * v) % P
    return nx, (r * (v - nx) - s1 * hhh) % P, h * p[2] * q[2] % P


def _lift_x(x: int) -> Jacobian | None:
    """BIP-340 ``lift_x``: the point with this x and an even y, or None."""
    if x >= P:
        return None
    c = (pow(x, 3, P) + 7) % P
    y = pow(c, (P + 1) // 4, P)
    if y * y % P != c:
        return None
    return x, y if y % 2 == 0 else P - y, 1


def schnorr_verify(public_key: bytes, message: bytes, sig: bytes) -> bool:
    """BIP-340 "Verification": 32-byte x-only key, 32-byte message, 64-byte signature."""
    if len(public_key) != 32 or len(message) != 32 or len(sig) != 64:
        return False
    point = _lift_x(int.from_bytes(public_key, "big"))
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if point is None or r >= P or s >= N:
        return False
    e = int.from_bytes(tagged_hash("BIP0340/challenge", sig[:32] + public_key + message), "big")
    neg = (point[0], P - point[1], 1)
    # R = s*G - e*P, both multiplications in one pass (Shamir's trick).
    g: Jacobian = (G[0], G[1], 1)
    both = _add(g, neg)
    table = {(1, 0): g, (0, 1): neg, (1, 1): both}
    e %= N
    acc = _INFINITY
    for bit in range(max(s.bit_length(), e.bit_length()) - 1, -1, -1):
        acc = _double(acc)
        pick = (s >> bit & 1, e >> bit & 1)
        if pick != (0, 0):
            acc = _add(acc, table[pick])
    x, y, z = acc
    if z == 0:
        return False
    z_inv = pow(z, -1, P)
    z2 = z_inv * z_inv % P
    return (y * z2 * z_inv % P) % 2 == 0 and x * z2 % P == r
