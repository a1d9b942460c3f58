"""Deterministic 2-of-3 regtest wallets and funding transactions for Bitcoin tests."""

from __future__ import annotations

from embit import bip32
from embit.networks import NETWORKS
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from kinko.chains.bitcoin import BitcoinAdapter, Utxo

ORIGIN = "48h/1h/0h/2h"
NET = NETWORKS["regtest"]


def master(seed_byte: int) -> bip32.HDKey:
    return bip32.HDKey.from_seed(bytes([seed_byte]) * 32, version=NET["xprv"])


def descriptor(seeds: tuple[int, ...] = (1, 2, 3), threshold: int = 2) -> str:
    keys = []
    for seed in seeds:
        root = master(seed)
        xpub = root.derive("m/" + ORIGIN).to_public().to_base58(version=NET["xpub"])
        keys.append(f"[{root.my_fingerprint.hex()}/{ORIGIN}]{xpub}/0/*")
    return f"wsh(sortedmulti({threshold},{','.join(keys)}))"


def key_bytes(seed_byte: int) -> bytes:
    return bytes(master(seed_byte).serialize())


def adapter(seeds: tuple[int, ...] = (1, 2, 3)) -> BitcoinAdapter:
    return BitcoinAdapter("regtest", descriptor=descriptor(seeds))


def funding(adapter: BitcoinAdapter, amounts: list[int], salt: int = 0) -> list[Utxo]:
    """One synthetic previous transaction per amount, paying to receive addresses 0..n-1."""
    assert adapter.wallet is not None
    utxos = []
    for i, amount in enumerate(amounts):
        script = adapter.wallet.script_pubkey(0, i)
        prev = Transaction(
            vin=[TransactionInput(bytes([salt, i]) + bytes(30), 0)],
            vout=[TransactionOutput(amount, Script(script))],
        )
        utxos.append(Utxo(bytes(prev.serialize()), 0))
    return utxos
