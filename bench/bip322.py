"""BIP-322 verification (proof of control of Bitcoin reserve addresses), one core.

What the offline verifier (`kinko.reserves.bip322`, standard library and `cryptography`)
spends per signature, by script type: P2WPKH (the BIP's vector; also with RIPEMD-160
written out, as where OpenSSL 3 has none), P2TR key path (the BIP's vector; Schnorr in
Python integers) and a 2-of-3 wsh(sortedmulti) signature like the exchange's cold wallets.
Reported: the median CPU time per verification and its inverse, verifications per second.

Run: ``.venv/bin/python -m bench bip322`` (a few seconds; ``KINKO_BENCH_BIP322=N`` for N
verifications of each kind, default 300).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from rich.console import Console
from rich.table import Table

from kinko.reserves import bip322, control, ripemd160

ROUNDS = int(os.environ.get("KINKO_BENCH_BIP322", "300"))
VECTORS = Path(__file__).parents[1] / "tests" / "vectors" / "bip322"
console = Console()


def _multisig() -> tuple[str, bytes, str]:
    from tests.unit.chains.btc_fixtures import descriptor, key_bytes

    from kinko.chains.bitcoin.networks import network
    from kinko.chains.bitcoin.wallet import MultisigWallet

    wallet = MultisigWallet.parse(descriptor((1, 2, 3)), network("regtest"))
    address, text = wallet.address(0, 0), "Kinko proof of reserves: bench\n"
    made = control.sign_multisig([key_bytes(1), key_bytes(3)], wallet, address, text)
    assert made is not None
    return address, text.encode(), made


def _median_cpu(check: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.thread_time()
        check()
        times.append(time.thread_time() - start)
    return statistics.median(times)


def main() -> None:
    basic = json.loads((VECTORS / "basic-test-vectors.json").read_text())
    wpkh = basic["simple"][1]
    tr = basic["simple"][3]
    cases: dict[str, tuple[str, bytes, str]] = {
        "P2WPKH (BIP vector)": (wpkh["address"], b"Hello World", wpkh["bip322_signatures"][0]),
        "P2TR key path (BIP vector)": (
            tr["address"],
            tr["message"].encode(),
            tr["bip322_signatures"][0],
        ),
        "P2WSH 2-of-3 sortedmulti": _multisig(),
    }
    table = Table(title=f"BIP-322 verification, median of {ROUNDS}, one core (CPU time)")
    table.add_column("signature")
    table.add_column("median µs", justify="right")
    table.add_column("verifications/s", justify="right")

    def row(name: str, args: tuple[str, bytes, str]) -> None:
        bip322.verify(*args)  # valid, and warm
        median = _median_cpu(lambda: bip322.verify(*args))
        table.add_row(name, f"{median * 1e6:,.0f}", f"{1 / median:,.0f}")

    for name, args in cases.items():
        row(name, args)
    with mock.patch.object(ripemd160, "digest", ripemd160.ripemd160):
        row("P2WPKH, RIPEMD-160 written out", cases["P2WPKH (BIP vector)"])
    console.print(table)
