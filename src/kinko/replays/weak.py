"""A signer with a broken nonce generator (Upbit 2025's reported cause: keys inferable
from biased signature nonces), at its extreme: the same nonce k twice. And the thief's
side: the private key computed from two such signatures, public on the chain.

Plain secp256k1 arithmetic, for the replay only (never for keys that guard funds).
"""

from __future__ import annotations

from kinko.chains.ethereum import tx as txmod

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)
Point = tuple[int, int] | None


def _add(a: Point, b: Point) -> Point:
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    if a == b:
        slope = 3 * a[0] * a[0] * pow(2 * a[1], -1, P) % P
    else:
        slope = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (slope * slope - a[0] - b[0]) % P
    return x, (slope * (a[0] - x) - a[1]) % P


def multiply(k: int, point: Point = G) -> Point:
    out: Point = None
    while k:
        if k & 1:
            out = _add(out, point)
        point = _add(point, point)
        k >>= 1
    return out


def sign_with_nonce(unsigned: txmod.Eip1559Tx, secret: bytes, k: int) -> txmod.Eip1559Tx:
    """`unsigned` signed with the nonce `k` (low-s, EIP-2), as the weak signer did."""
    point = multiply(k)
    if point is None:
        raise ValueError("k must not be 0 mod n")
    z = int.from_bytes(unsigned.signing_digest(), "big")
    r = point[0] % N
    s = pow(k, -1, N) * (z + r * int.from_bytes(secret, "big")) % N
    parity = point[1] & 1
    if s > N // 2:
        s, parity = N - s, parity ^ 1
    return txmod.Eip1559Tx(
        unsigned.chain_id,
        unsigned.nonce,
        unsigned.max_priority_fee_per_gas,
        unsigned.max_fee_per_gas,
        unsigned.gas_limit,
        unsigned.to,
        unsigned.value,
        unsigned.data,
        unsigned.access_list,
        txmod.Signature(parity, r, s),
    )


def recover_key(first: txmod.Eip1559Tx, second: txmod.Eip1559Tx, sender: str) -> bytes:
    """The secret behind two signatures sharing r, checked against `sender` (the
    signatures' s may have been negated for low-s: each sign is tried)."""
    a, b = first.signature, second.signature
    if a is None or b is None or a.r != b.r:
        raise ValueError("two signatures with the same r are needed")
    z1 = int.from_bytes(first.signing_digest(), "big")
    z2 = int.from_bytes(second.signing_digest(), "big")
    for s1 in (a.s, N - a.s):
        for s2 in (b.s, N - b.s):
            if s1 == s2:
                continue
            k = (z1 - z2) * pow(s1 - s2, -1, N) % N
            secret = ((s1 * k - z1) * pow(a.r, -1, N) % N).to_bytes(32, "big")
            if _address(secret) == sender.lower():
                return secret
    raise ValueError("no key from these signatures matches the sender")


def _address(secret: bytes) -> str:
    from kinko.chains.ethereum.address import keccak256

    point = multiply(int.from_bytes(secret, "big"))
    if point is None:
        return ""
    public = point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")
    return "0x" + keccak256(public)[-20:].hex()
