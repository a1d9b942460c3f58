"""Ethereum networks Kinko knows, by name and EIP-155 chain id."""

from __future__ import annotations

from kinko.core.errors import InputError

CHAIN_IDS: dict[str, int] = {
    "mainnet": 1,
    "sepolia": 11155111,
    "holesky": 17000,
    # web3's EthereumTesterProvider (in-process py-evm) uses this chain id.
    "devnet": 131277322940537,
}


def chain_id_for(network: str) -> int:
    try:
        return CHAIN_IDS[network]
    except KeyError:
        raise InputError(
            "network", f"unknown Ethereum network {network!r}; known: {', '.join(CHAIN_IDS)}"
        ) from None
