"""Running a scenario: the attacker's moves against a `Bench`, the outcome read back.

Kinds of replay (`tampered`, `dmm_bitcoin`, `raw_key`; Ronin's `quorum`):

* `tampered` (Bybit, WazirX, Radiant) and `dmm_bitcoin` (DMM Bitcoin): a legitimate
  withdrawal is requested through the real withdrawal service; the attacker rewrites what
  waits for signing (the transaction, or the transaction with its digest and the intent
  the approvers' screens show); the approvers approve over the challenge Kinko issues
  them; the quorum-completing approval hands it to the real signer (on Bitcoin, the key
  holders' `kinko cosign` on the exported bundle). What left the wallet is read from the
  chain (on Bitcoin, with no node: from the fully signed transactions released).
* `raw_key` (Coincheck, Upbit 2019): the thief signs with the hot wallet's raw key
  outside Kinko; the real chain watcher polls the chain one interval after each block,
  the real monitor decides; then the exchange's rebalancing tries to refill the wallet.

The result names every control by what Kinko recorded (the audit log's action and code)
with the entries' sequence numbers; the times are Kinko's records' times minus the first
theft transaction's block time (simulated chain time).
"""

from __future__ import annotations

from collections.abc import Callable

from kinko.core.errors import InputError
from kinko.replays import dmm_bitcoin, quorum, raw_key, tampered
from kinko.replays.bench import Bench
from kinko.replays.model import Result, Scenario
from kinko.replays.scenarios import SCENARIOS


def replay(name: str, bench: Bench) -> Result:
    """Run scenario `name` on `bench` (a fresh exchange: one replay per bench)."""
    if name not in SCENARIOS:
        raise InputError("name", f"no replay {name!r}; known: {', '.join(SCENARIOS)}")
    return PLAYS[name](SCENARIOS[name], bench)


PLAYS: dict[str, Callable[[Scenario, Bench], Result]] = {
    "dmm-bitcoin-2024": dmm_bitcoin.dmm,
    "bybit-2025": tampered.bybit,
    "wazirx-2024": tampered.wazirx,
    "radiant-2024": tampered.radiant,
    "coincheck-2018": raw_key.coincheck,
    "upbit-2019": raw_key.upbit_2019,
    "upbit-2025": raw_key.upbit_2025,
    "ronin-2022": quorum.ronin,
}
