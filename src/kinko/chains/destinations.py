"""Destinations nobody can spend from (burn addresses): never a withdrawal's destination.

A withdrawal to one of these is lost for good, so it is refused when it is requested, when
it is put in the address book, and by the signer:

Ethereum
- the zero address ``0x0000000000000000000000000000000000000000``: no one holds its key;
  token contracts treat a transfer to it as a burn (OpenZeppelin's ERC-20 refuses it,
  ``ERC20InvalidReceiver(address(0))``);
- ``0x…0001`` to ``0x…01ff``: the precompiled contracts (0x01–0x09: Yellow Paper
  appendix E, EIP-196/197/198/152; 0x0a: EIP-4844; 0x0b–0x11: EIP-2537; 0x0100:
  EIP-7951) and the ranges reserved for more (EIP-7587): no key, and no code that could
  ever send value back;
- ``0x000000000000000000000000000000000000dEaD``: the conventional burn address.

Bitcoin (every network)
- an output to an all-zero hash or witness program: P2PKH (mainnet
  ``1111111111111111111114oLvT2``, the most used burn address), P2SH, P2WPKH, P2WSH: no
  key or script is known that hashes to zero;
- P2TR with output key x = 0: not a point on secp256k1 (7 is not a square modulo p), so
  neither the key path nor a script path can ever spend it (BIP 340/341);
- the vanity burn addresses ``1BitcoinEaterAddressDontSendf59kuE`` and Counterparty's
  proof-of-burn address ``1CounterpartyXXXXXXXXXXXXXXXUWLpVr`` (2014): base58check
  addresses chosen as text, whose keys no one can have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinko.core.errors import InputError

if TYPE_CHECKING:
    from kinko.chains.base import Intent

_ETH_DEAD = bytes.fromhex("000000000000000000000000000000000000dead")
_ETH_RESERVED_MAX = 0x01FF
_BTC_VANITY = {
    # script_pubkey of each (P2PKH), so that the check does not depend on the spelling.
    bytes.fromhex("76a914759d6677091e973b9e9d99f19c68fbf43e3f05f988ac"),  # 1BitcoinEater…
    bytes.fromhex("76a914818895f3dc2c178629d3d2d8fa3ec4a3f817982188ac"),  # 1Counterparty…
}
CODE = "unspendable_destination"


def ethereum_problem(raw: bytes) -> str | None:
    """Why the 20-byte Ethereum address `raw` is a burn address, or None."""
    value = int.from_bytes(raw, "big")
    if value == 0:
        return "the zero address: no one holds its key, whatever is sent there is burnt"
    if value <= _ETH_RESERVED_MAX:
        return (
            "a precompiled-contract address (or one reserved for them): it has no key and "
            "can never send anything back"
        )
    if raw == _ETH_DEAD:
        return "the conventional burn address 0x…dEaD: no one holds its key"
    return None


def bitcoin_problem(script: bytes) -> str | None:
    """Why an output paying to `script` can never be spent, or None."""
    if script in _BTC_VANITY:
        return "a well-known burn address (a vanity address no one has the key to)"
    if len(script) == 25 and script[:3] == b"\x76\xa9\x14" and script[3:23] == bytes(20):
        return "pays to the all-zero key hash: no key hashes to it (a burn address)"
    if len(script) == 23 and script[:2] == b"\xa9\x14" and script[2:22] == bytes(20):
        return "pays to the all-zero script hash: no script hashes to it (a burn address)"
    if len(script) in (22, 34) and script[0] == 0 and script[2:] == bytes(script[1]):
        return "pays to an all-zero witness program: nothing hashes to it (a burn address)"
    if len(script) == 34 and script[:2] == b"\x51\x20" and script[2:] == bytes(32):
        return "pays to the Taproot key x = 0, which is not a curve point: unspendable"
    return None


def refuse_unspendable(chain: str, network: str, address: str, *, field: str) -> None:
    """InputError (code ``unspendable_destination``) if `address` (already normalised for
    `chain`/`network`) is a burn address."""
    problem: str | None = None
    if chain == "ethereum":
        from kinko.chains.ethereum.address import address_bytes

        problem = ethereum_problem(address_bytes(address, field=field))
    elif chain == "bitcoin":
        from kinko.chains.bitcoin.address import script_pubkey
        from kinko.chains.bitcoin.networks import network as bitcoin_network

        problem = bitcoin_problem(script_pubkey(address, bitcoin_network(network), field))
    if problem is not None:
        raise InputError(
            field,
            f"{address} is {problem}; funds sent there are lost for good. Check the "
            "destination with the customer",
            code=CODE,
        )


def unspendable_payment(intent: Intent) -> str | None:
    """What is wrong if a decoded transaction pays a burn address (each paid output, or
    the destination), or None."""
    paid = [o.address for o in intent.outputs if not o.is_change] or [intent.destination]
    for address in filter(None, paid):
        try:
            refuse_unspendable(intent.chain, intent.network, address, field="destination")
        except InputError as exc:
            if exc.code == CODE:
                return exc.message.removeprefix("destination: ")
            # Not an address this check reads (e.g. a non-standard output): the other
            # checks judge the transaction.
    return None


def refuse_unspendable_anywhere(chain: str, address: str, *, field: str) -> None:
    """`refuse_unspendable` on whichever of `chain`'s networks `address` belongs to (an
    address-book entry names no network)."""
    if chain != "bitcoin":
        refuse_unspendable(chain, "mainnet", address, field=field)
        return
    from kinko.chains.bitcoin.networks import NETWORKS

    for name in NETWORKS:
        try:
            refuse_unspendable(chain, name, address, field=field)
        except InputError as exc:
            if exc.code == CODE:
                raise
