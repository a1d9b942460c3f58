"""Per-chain address validation and the comparison key used for exact lookups.

A key is ``<namespace>:<canonical form>``. The namespace is shared by chains whose address
spaces are the same: every EVM chain uses ``evm`` (one private key controls the address on
all of them, so a listed Ethereum address is screened on Arbitrum or BSC too).

- EVM: ``0x`` + 40 hex digits. Mixed case must be a valid EIP-55 checksum; the key is
  lower case.
- Bitcoin and Litecoin: base58check (Bitcoin/Litecoin version bytes) or segwit bech32 /
  bech32m (BIP-173 / BIP-350, via embit). The key of a segwit address is its lower-case
  form; a base58check address is kept exactly (base58 is case-sensitive).
- Tron: base58check of 21 bytes starting 0x41.
- Bitcoin Cash: legacy base58check, or CashAddr with its checksum verified
  (`kinko.screening.cashaddr`). Both map to the same key, ``bch:p2pkh:<hash160 hex>``,
  so a list in one format matches a destination in the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from embit import base58, bech32
from eth_utils.address import is_checksum_address

from kinko.core.errors import InputError
from kinko.screening.cashaddr import decode_cashaddr
from kinko.screening.chains import EVM_CHAINS, SUPPORTED_CHAINS

_HEX40 = re.compile(r"^0x[0-9a-fA-F]{40}$")

# Base58check version bytes, mainnet first, then testnet/regtest (for test networks).
_BTC_VERSIONS = {0x00: "p2pkh", 0x05: "p2sh", 0x6F: "p2pkh", 0xC4: "p2sh"}
_LTC_VERSIONS = {0x30: "p2pkh", 0x32: "p2sh", 0x05: "p2sh", 0x6F: "p2pkh", 0x3A: "p2sh"}
_BTC_HRPS = ("bc", "tb", "bcrt")
_LTC_HRPS = ("ltc", "tltc", "rltc")


@dataclass(frozen=True, slots=True)
class NormalisedAddress:
    chain: str
    address: str
    """The address as given (trimmed)."""
    key: str


def namespace(chain: str) -> str:
    if chain in EVM_CHAINS:
        return "evm"
    return {"bitcoin": "btc", "litecoin": "ltc", "tron": "trx", "bitcoin-cash": "bch"}.get(
        chain, chain
    )


def normalise_address(chain: str, address: str, *, field: str = "address") -> NormalisedAddress:
    """Validate `address` for `chain` and return its comparison key.

    Raises `InputError` naming `field` when the address is not valid for the chain.
    """
    if chain not in SUPPORTED_CHAINS:
        raise InputError(
            "chain",
            f"{chain!r} is not a chain screening knows; "
            f"use one of {', '.join(sorted(SUPPORTED_CHAINS))}",
        )
    text = address.strip()
    if not text:
        raise InputError(field, "is empty; give the destination address")
    if chain in EVM_CHAINS:
        key = _evm(text, field)
    elif chain == "bitcoin":
        key = _utxo(text, field, _BTC_VERSIONS, _BTC_HRPS, "Bitcoin")
    elif chain == "litecoin":
        key = _utxo(text, field, _LTC_VERSIONS, _LTC_HRPS, "Litecoin")
    elif chain == "tron":
        key = _tron(text, field)
    else:
        key = _bch(text, field)
    return NormalisedAddress(chain=chain, address=text, key=f"{namespace(chain)}:{key}")


def _evm(text: str, field: str) -> str:
    if not _HEX40.match(text):
        raise InputError(field, f"{text!r} is not an EVM address (0x followed by 40 hex digits)")
    body = text[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(text):
        raise InputError(
            field,
            f"{text!r} fails its EIP-55 checksum: a character was mistyped or altered. Copy "
            "the address again from its source; do not retype it or change its letter case",
        )
    return text.lower()


def _b58check(text: str) -> bytes | None:
    try:
        return bytes(base58.decode_check(text))
    except (ValueError, KeyError, IndexError):
        return None


def _utxo(
    text: str, field: str, versions: dict[int, str], hrps: tuple[str, ...], label: str
) -> str:
    lowered = text.lower()
    for hrp in hrps:
        if lowered.startswith(hrp + "1"):
            if text != lowered and text != text.upper():
                raise InputError(field, f"{text!r} mixes upper and lower case (BIP-173 forbids it)")
            version, program = bech32.decode(hrp, lowered)
            if version is None or program is None:
                raise InputError(
                    field, f"{text!r} is not a valid {label} bech32/bech32m address (checksum)"
                )
            return lowered
    payload = _b58check(text)
    if payload is None:
        raise InputError(
            field, f"{text!r} is not a valid {label} address (base58check or bech32 checksum)"
        )
    if len(payload) != 21 or payload[0] not in versions:
        raise InputError(field, f"{text!r} is base58check but not a {label} address version")
    return text


def _tron(text: str, field: str) -> str:
    payload = _b58check(text)
    if payload is None or len(payload) != 21 or payload[0] != 0x41:
        raise InputError(
            field,
            f"{text!r} is not a valid Tron address (base58check, 21 bytes starting 0x41, 'T...')",
        )
    return text


def _bch(text: str, field: str) -> str:
    payload = _b58check(text)
    if payload is not None:
        if len(payload) != 21 or payload[0] not in (0x00, 0x05):
            raise InputError(field, f"{text!r} is base58check but not a Bitcoin Cash address")
        kind = "p2pkh" if payload[0] == 0x00 else "p2sh"
        return f"{kind}:{payload[1:].hex()}"
    decoded = decode_cashaddr(text)
    if decoded is None:
        raise InputError(
            field, f"{text!r} is not a valid Bitcoin Cash address (legacy base58check or CashAddr)"
        )
    kind, digest = decoded
    return f"{kind}:{digest.hex()}"
