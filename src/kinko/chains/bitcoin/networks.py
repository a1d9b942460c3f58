"""Bitcoin networks: address prefixes and the names each library uses for them."""

from __future__ import annotations

from dataclasses import dataclass

from kinko.core.errors import InputError


@dataclass(frozen=True, slots=True)
class BitcoinNetwork:
    name: str
    hrp: str
    p2pkh: int
    p2sh: int
    embit: str  # key in embit.networks.NETWORKS
    bdk: str  # bdkpython.Network member name
    coin_type: int  # BIP-44/48 coin type: 0 mainnet, 1 every test network


NETWORKS: dict[str, BitcoinNetwork] = {
    "mainnet": BitcoinNetwork("mainnet", "bc", 0x00, 0x05, "main", "BITCOIN", 0),
    "testnet": BitcoinNetwork("testnet", "tb", 0x6F, 0xC4, "test", "TESTNET", 1),
    "signet": BitcoinNetwork("signet", "tb", 0x6F, 0xC4, "signet", "SIGNET", 1),
    "regtest": BitcoinNetwork("regtest", "bcrt", 0x6F, 0xC4, "regtest", "REGTEST", 1),
}


def network(name: str) -> BitcoinNetwork:
    try:
        return NETWORKS[name]
    except KeyError:
        raise InputError(
            "network", f"unknown Bitcoin network {name!r}; known: {', '.join(NETWORKS)}"
        ) from None
