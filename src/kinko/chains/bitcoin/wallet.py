"""m-of-n P2WSH `sortedmulti` wallets from output descriptors.

Accepted form (BIP-380/383 descriptors, BIP-67 key order)::

    wsh(sortedmulti(M,[fingerprint/origin/path]xpub.../0/*, ...))[#checksum]

Every key carries its origin (master fingerprint and path) so that PSBTs can name which
cosigner signs what, and uses `/0/*` for receive addresses; change uses `/1/*`. BDK parses
and checks the descriptor (and its checksum) and derives addresses; the witness scripts
are also derived here independently with embit, so that decoding does not rely on the
same library that built the transaction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import bdkpython as bdk
from embit import bip32
from embit.networks import NETWORKS as EMBIT_NETWORKS

from kinko.chains.bitcoin import address as addr
from kinko.chains.bitcoin.networks import BitcoinNetwork
from kinko.core.errors import InputError

MAX_COSIGNERS = 15
OP_CHECKMULTISIG = 0xAE
_DESCRIPTOR = re.compile(r"^wsh\(sortedmulti\((\d+),([^()]+)\)\)(#[0-9a-z]{8})?$")
_KEY = re.compile(r"^\[([0-9a-fA-F]{8})((?:/\d+[h']?)*)\]([1-9A-HJ-NP-Za-km-z]{100,112})/0/\*$")


@dataclass(frozen=True, slots=True)
class Cosigner:
    fingerprint: bytes  # master key fingerprint, 4 bytes
    origin: str  # e.g. "48h/1h/0h/2h"
    xpub: str

    @property
    def origin_path(self) -> list[int]:
        return bip32.parse_path("m/" + self.origin) if self.origin else []


@dataclass(frozen=True)
class MultisigWallet:
    network: BitcoinNetwork
    threshold: int
    cosigners: tuple[Cosigner, ...]

    @classmethod
    def parse(cls, descriptor: str, network: BitcoinNetwork) -> MultisigWallet:
        field = "descriptor"
        match = _DESCRIPTOR.match(descriptor.strip())
        if match is None:
            raise InputError(
                field,
                "expected wsh(sortedmulti(M,[fingerprint/path]xpub/0/*,...)); other script "
                "types are not supported for multisig custody",
            )
        threshold = int(match.group(1))
        cosigners = tuple(cls._cosigner(k.strip(), network) for k in match.group(2).split(","))
        n = len(cosigners)
        if not 1 <= threshold <= n <= MAX_COSIGNERS:
            raise InputError(field, f"threshold {threshold} of {n} keys is not 1 <= M <= N <= 15")
        if len({c.xpub for c in cosigners}) != n or len({c.fingerprint for c in cosigners}) != n:
            raise InputError(field, "the same key or master fingerprint appears twice")
        wallet = cls(network, threshold, cosigners)
        try:
            bdk.Descriptor(descriptor.strip(), wallet._network_kind)
        except bdk.DescriptorError as exc:
            raise InputError(field, f"BDK refuses the descriptor: {exc}") from None
        return wallet

    @staticmethod
    def _cosigner(text: str, network: BitcoinNetwork) -> Cosigner:
        match = _KEY.match(text)
        if match is None:
            raise InputError(
                "descriptor", f"key {text[:24]!r}... must be [fingerprint/path]xpub/0/*"
            )
        try:
            key = bip32.HDKey.from_base58(match.group(3))
        except Exception as exc:  # embit raises several types for bad base58 keys
            raise InputError("descriptor", f"extended key does not parse: {exc}") from None
        if key.is_private:
            raise InputError("descriptor", "contains a private key; give xpubs only")
        expected = EMBIT_NETWORKS[network.embit]["xpub"]
        if key.version != expected:
            raise InputError(
                "descriptor",
                f"extended key is not for {network.name} (wrong version bytes)",
                code="wrong_network",
            )
        origin = match.group(2).lstrip("/").replace("'", "h")
        return Cosigner(bytes.fromhex(match.group(1).lower()), origin, match.group(3))

    def descriptor(self, chain: int) -> str:
        keys = ",".join(
            f"[{c.fingerprint.hex()}/{c.origin}]{c.xpub}/{chain}/*" for c in self.cosigners
        )
        return f"wsh(sortedmulti({self.threshold},{keys}))"

    @property
    def _network_kind(self) -> Any:
        return bdk.NetworkKind.MAIN if self.network.name == "mainnet" else bdk.NetworkKind.TEST

    @cached_property
    def _xpubs(self) -> tuple[bip32.HDKey, ...]:
        return tuple(bip32.HDKey.from_base58(c.xpub) for c in self.cosigners)

    @cached_property
    def _derived(self) -> dict[tuple[int, int], tuple[bytes, ...]]:
        return {}

    def pubkeys(self, chain: int, index: int) -> list[bytes]:
        """Compressed public keys at chain/index in sortedmulti (BIP-67) order (memoised)."""
        _check_path(chain, index)
        keys = self._derived.get((chain, index))
        if keys is None:
            keys = tuple(sorted(x.derive([chain, index]).key.sec() for x in self._xpubs))
            self._derived[(chain, index)] = keys
        return list(keys)

    def witness_script(self, chain: int, index: int) -> bytes:
        keys = self.pubkeys(chain, index)
        body = b"".join(bytes([len(k)]) + k for k in keys)
        return bytes([0x50 + self.threshold]) + body + bytes([0x50 + len(keys), OP_CHECKMULTISIG])

    def script_pubkey(self, chain: int, index: int) -> bytes:
        return b"\x00\x20" + hashlib.sha256(self.witness_script(chain, index)).digest()

    def address(self, chain: int, index: int) -> str:
        """The address at chain/index, derived by BDK and cross-checked with embit."""
        derived = self.bdk_wallet().peek_address(_keychain(chain), index).address
        text = str(derived)
        if addr.script_pubkey(text, self.network) != self.script_pubkey(chain, index):
            raise AssertionError("BDK and embit disagree on the wallet's address")
        return text

    def bdk_wallet(self) -> Any:
        """A fresh in-memory BDK wallet (no chain backend) for this descriptor."""
        return bdk.Wallet(
            bdk.Descriptor(self.descriptor(0), self._network_kind),
            bdk.Descriptor(self.descriptor(1), self._network_kind),
            getattr(bdk.Network, self.network.bdk),
            bdk.Persister.new_in_memory(),
        )

    def locate(self, fingerprint: bytes, path: list[int]) -> tuple[int, int] | None:
        """(chain, index) if `path` is origin/chain/index of one of this wallet's cosigners."""
        for cosigner in self.cosigners:
            origin = cosigner.origin_path
            if (
                cosigner.fingerprint == fingerprint
                and len(path) == len(origin) + 2
                and path[: len(origin)] == origin
                and path[-2] in (0, 1)
                and path[-1] < 2**31
            ):
                return path[-2], path[-1]
        return None


def _keychain(chain: int) -> Any:
    return bdk.KeychainKind.EXTERNAL if chain == 0 else bdk.KeychainKind.INTERNAL


def _check_path(chain: int, index: int) -> None:
    if chain not in (0, 1):
        raise InputError("chain", "0 (receive) or 1 (change)")
    if not 0 <= index < 2**31:
        raise InputError("index", "must be a non-hardened index below 2^31")
