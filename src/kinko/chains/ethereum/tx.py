"""EIP-1559 (type 2) transactions: build, parse, digest and sign, following EIP-1559/EIP-2718.

Unsigned payload: ``0x02 || rlp([chain_id, nonce, max_priority_fee_per_gas,
max_fee_per_gas, gas_limit, destination, amount, data, access_list])``.
Signed: the same list followed by ``signature_y_parity, signature_r, signature_s``.
The signing digest is ``keccak256(unsigned payload)`` (EIP-1559, "signature_y_parity ...
over keccak256(0x02 || rlp([...]))").
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_keys.datatypes import PrivateKey, PublicKey
from eth_keys.datatypes import Signature as EthSignature
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError

from kinko.chains import rlp
from kinko.chains.ethereum.address import keccak256, to_checksum
from kinko.core.errors import InputError

TX_TYPE = 0x02
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_UNSIGNED_FIELDS = 9
_SIGNED_FIELDS = 12


@dataclass(frozen=True, slots=True)
class Signature:
    y_parity: int
    r: int
    s: int


@dataclass(frozen=True, slots=True)
class Eip1559Tx:
    chain_id: int
    nonce: int
    max_priority_fee_per_gas: int
    max_fee_per_gas: int
    gas_limit: int
    to: bytes  # 20 bytes; contract creation is refused
    value: int
    data: bytes = b""
    access_list: tuple[tuple[bytes, tuple[bytes, ...]], ...] = ()
    signature: Signature | None = None

    def __post_init__(self) -> None:
        for name in (
            "chain_id",
            "nonce",
            "max_priority_fee_per_gas",
            "max_fee_per_gas",
            "gas_limit",
            "value",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
                raise InputError(name, f"must be an integer in 0..2^256-1, got {value!r}")
        if self.chain_id == 0:
            raise InputError("chain_id", "must not be 0 (replay protection)")
        if len(self.to) != 20:
            raise InputError("to", "destination must be a 20-byte address (no contract creation)")
        if self.max_priority_fee_per_gas > self.max_fee_per_gas:
            raise InputError(
                "max_priority_fee_per_gas", "must not exceed max_fee_per_gas (EIP-1559)"
            )

    def _fields(self) -> list[rlp.Item]:
        access: list[rlp.Item] = [[addr, list(slots)] for addr, slots in self.access_list]
        return [
            rlp.encode_int(self.chain_id),
            rlp.encode_int(self.nonce),
            rlp.encode_int(self.max_priority_fee_per_gas),
            rlp.encode_int(self.max_fee_per_gas),
            rlp.encode_int(self.gas_limit),
            self.to,
            rlp.encode_int(self.value),
            self.data,
            access,
        ]

    def unsigned_payload(self) -> bytes:
        return bytes([TX_TYPE]) + rlp.encode(self._fields())

    def signing_digest(self) -> bytes:
        return keccak256(self.unsigned_payload())

    def raw(self) -> bytes:
        """The signed network encoding (requires a signature)."""
        if self.signature is None:
            raise InputError("payload", "transaction is not signed")
        sig = self.signature
        fields = [
            *self._fields(),
            rlp.encode_int(sig.y_parity),
            rlp.encode_int(sig.r),
            rlp.encode_int(sig.s),
        ]
        return bytes([TX_TYPE]) + rlp.encode(fields)

    def tx_hash(self) -> bytes:
        return keccak256(self.raw())

    @property
    def max_fee(self) -> int:
        """The most this transaction can pay in fees: gas_limit x max_fee_per_gas."""
        return self.gas_limit * self.max_fee_per_gas

    def sender_public_key(self) -> PublicKey:
        if self.signature is None:
            raise InputError("payload", "transaction is not signed; the sender is unknown")
        sig = self.signature
        try:
            signature = EthSignature(vrs=(sig.y_parity, sig.r, sig.s))
            return signature.recover_public_key_from_msg_hash(self.signing_digest())
        except (BadSignature, ValidationError) as exc:
            raise InputError("payload.signature", f"signature does not recover: {exc}") from None

    def sender(self) -> str:
        return to_checksum(self.sender_public_key().to_canonical_address())


def parse(payload: bytes) -> Eip1559Tx:
    """Parse an unsigned or signed type-2 payload, refusing anything else."""
    if not isinstance(payload, bytes | bytearray) or not payload:
        raise InputError("payload", "empty transaction")
    if payload[0] != TX_TYPE:
        raise InputError(
            "payload",
            f"transaction type 0x{payload[0]:02x} is not supported; only EIP-1559 (0x02)",
        )
    items = rlp.decode(bytes(payload[1:]), field="payload")
    if not isinstance(items, list) or len(items) not in (_UNSIGNED_FIELDS, _SIGNED_FIELDS):
        raise InputError(
            "payload", "an EIP-1559 transaction is a list of 9 (unsigned) or 12 (signed) fields"
        )
    ints = [
        rlp.decode_int(items[i], f"payload.{name}")
        for i, name in enumerate(
            ("chain_id", "nonce", "max_priority_fee_per_gas", "max_fee_per_gas", "gas_limit")
        )
    ]
    to, data, access = items[5], items[7], items[8]
    if not isinstance(to, bytes) or len(to) != 20:
        raise InputError("payload.to", "destination must be a 20-byte address")
    if not isinstance(data, bytes):
        raise InputError("payload.data", "calldata must be a byte string")
    value = rlp.decode_int(items[6], "payload.value")
    signature = None
    if len(items) == _SIGNED_FIELDS:
        y, r, s = (
            rlp.decode_int(items[i], f"payload.{n}")
            for i, n in zip((9, 10, 11), ("y_parity", "r", "s"), strict=True)
        )
        if y not in (0, 1) or not 0 < r < SECP256K1_N or not 0 < s <= SECP256K1_N // 2:
            raise InputError("payload.signature", "y_parity/r/s out of range (EIP-2 low-s)")
        signature = Signature(y, r, s)
    return Eip1559Tx(
        chain_id=ints[0],
        nonce=ints[1],
        max_priority_fee_per_gas=ints[2],
        max_fee_per_gas=ints[3],
        gas_limit=ints[4],
        to=to,
        value=value,
        data=data,
        access_list=_access_list(access),
        signature=signature,
    )


def _access_list(item: rlp.Item) -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    if not isinstance(item, list):
        raise InputError("payload.access_list", "must be a list")
    out = []
    for entry in item:
        if (
            not isinstance(entry, list)
            or len(entry) != 2
            or not isinstance(entry[0], bytes)
            or len(entry[0]) != 20
            or not isinstance(entry[1], list)
        ):
            raise InputError("payload.access_list", "each entry is [address, [storage keys]]")
        slots = []
        for slot in entry[1]:
            if not isinstance(slot, bytes) or len(slot) != 32:
                raise InputError("payload.access_list", "storage keys are 32 bytes")
            slots.append(slot)
        out.append((entry[0], tuple(slots)))
    return tuple(out)


def sign(tx: Eip1559Tx, secret: bytes) -> Eip1559Tx:
    """Sign with RFC 6979 deterministic nonces (eth-keys), low-s normalised (EIP-2)."""
    if len(secret) != 32:
        raise InputError("key", "an Ethereum key is a 32-byte secret")
    try:
        key = PrivateKey(secret)
    except ValidationError as exc:
        raise InputError("key", f"not a valid secp256k1 secret: {exc}") from None
    sig = key.sign_msg_hash(tx.signing_digest())
    r, s, v = sig.r, sig.s, sig.v
    if s > SECP256K1_N // 2:
        s, v = SECP256K1_N - s, v ^ 1
    return Eip1559Tx(
        tx.chain_id,
        tx.nonce,
        tx.max_priority_fee_per_gas,
        tx.max_fee_per_gas,
        tx.gas_limit,
        tx.to,
        tx.value,
        tx.data,
        tx.access_list,
        Signature(v, r, s),
    )
