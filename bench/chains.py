"""Chain adapter benchmarks (one core).

* Bitcoin: one full PSBT cycle for a 2-of-3 P2WSH wallet spending 5 inputs to one payee
  plus change: BDK build -> decode -> two independent embit co-signatures -> combine ->
  BDK finalise/extract. Reported as cycles per second.
* Ethereum: EIP-1559 sign + decode (sender recovery, calldata classification) per second,
  for a native transfer and an ERC-20 transfer; eth-account's `sign_transaction` on the
  same transaction is timed in the same process as the baseline.

Run: ``.venv/bin/python -m bench chains``; ``KINKO_BENCH_FULL=1`` runs 5x more rounds.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

from eth_account import Account
from rich.console import Console
from rich.table import Table
from tests.unit.chains.btc_fixtures import adapter, funding, key_bytes

from kinko.chains.bitcoin import Payment
from kinko.chains.ethereum import EthereumAdapter, Fees, Transfer
from kinko.chains.ethereum.address import to_checksum

FULL = os.environ.get("KINKO_BENCH_FULL") == "1"
ROUNDS = 25 if FULL else 5
console = Console()


def _rate(fn: Callable[[], object], per_round: int) -> tuple[float, float]:
    """Median operations per second over ROUNDS rounds: by CPU time, and by wall clock.

    CPU time is the figure to compare on a shared machine; wall clock shows contention.
    """
    fn()  # warm-up
    cpu, wall = [], []
    for _ in range(ROUNDS):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(per_round):
            fn()
        wall.append(per_round / (time.perf_counter() - start))
        cpu.append(per_round / (time.process_time() - start_cpu))
    return statistics.median(cpu), statistics.median(wall)


def psbt_cycle() -> Callable[[], bytes]:
    btc = adapter()
    utxos = funding(btc, [100_000, 120_000, 90_000, 50_000, 70_000])
    keys = (key_bytes(1), key_bytes(3))
    payee = [Payment("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", 300_000)]

    def cycle() -> bytes:
        unsigned = btc.build(utxos, payee, fee_rate=3)
        btc.decode(unsigned)
        signed = btc.combine([btc.sign(unsigned, k) for k in keys])
        return btc.finalize(signed)

    return cycle


def main() -> None:
    table = Table(title="chain adapters (median of rounds, one core)")
    for column in (
        "operation",
        "median /s (CPU)",
        "median /s (wall)",
        "baseline /s (CPU)",
        "ratio",
    ):
        table.add_column(column, justify="right" if column != "operation" else "left")
    cpu_rate, wall_rate = _rate(psbt_cycle(), 20)
    table.add_row(
        "BTC 2-of-3, 5 inputs: build+decode+2 sign+combine+finalise",
        f"{cpu_rate:,.1f}",
        f"{wall_rate:,.1f}",
        "",
        "",
    )

    eth = EthereumAdapter("mainnet")
    secret = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
    to = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    token = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
    fees = Fees(30 * 10**9, 2 * 10**9, 90_000)
    for label, transfer, data in (
        ("ETH native", Transfer(to, to, 10**18, 1, fees), b""),
        ("ETH ERC-20 transfer", Transfer(to, to, 10**6, 1, fees, token=token), None),
    ):
        payload = eth.build(transfer)

        def ours(payload: bytes = payload) -> object:
            return eth.decode(eth.sign(payload, secret))

        parsed = eth.parse(payload)
        tx = {
            "type": 2,
            "chainId": 1,
            "nonce": 1,
            "maxFeePerGas": fees.max_fee_per_gas,
            "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
            "gas": fees.gas_limit,
            "to": to_checksum(parsed.to),
            "value": parsed.value,
            "data": parsed.data if data is None else data,
        }

        def baseline(tx: dict[str, object] = tx) -> object:
            return Account.sign_transaction(tx, secret)

        cpu_rate, wall_rate = _rate(ours, 200)
        base, _ = _rate(baseline, 200)
        table.add_row(
            f"{label}: sign+decode",
            f"{cpu_rate:,.0f}",
            f"{wall_rate:,.0f}",
            f"{base:,.0f} (eth-account sign only)",
            f"{cpu_rate / base:.2f}",
        )
    console.print(table)
