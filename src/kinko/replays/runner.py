"""Running a scenario: the attacker's moves against a `Bench`, the outcome read back.

Two kinds of replay:

* `tampered` (DMM Bitcoin, Bybit, WazirX, Radiant): a legitimate withdrawal is requested
  through the real withdrawal service; the attacker rewrites what waits for signing (the
  transaction, or the transaction with its digest and the intent the approvers' screens
  show); the approvers approve over the challenge Kinko issues them; the quorum-completing
  approval hands it to the real signer. What left the wallet is read from the chain.
* `raw_key` (Coincheck, Upbit 2019): the thief signs with the hot wallet's raw key
  outside Kinko; the real chain watcher polls the chain one interval after each block,
  the real monitor decides; then the exchange's rebalancing tries to refill the wallet.

The result names every control by what Kinko recorded (the audit log's action and code)
with the entries' sequence numbers; the times are Kinko's records' times minus the first
theft transaction's block time (simulated chain time).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from kinko.chains.base import DEFAULT_INTERVAL_S
from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.chains.ethereum.address import to_checksum
from kinko.core.errors import InputError, KinkoError
from kinko.monitor.watcher import ChainWatcher
from kinko.replays import moves
from kinko.replays.bench import Bench, Entry, alerts, audit_entries, last_seq
from kinko.replays.model import Control, Outcome, Result, Scenario
from kinko.replays.scenarios import SCENARIOS
from kinko.withdrawals.intake import WithdrawalRequest

CUSTOMER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # the legitimate destination
ATTACKER = to_checksum(bytes.fromhex("a77acce2" * 5))  # the thief's address (made up)
SAFE = "0x1Db92e2EeBC8E0c075a02BeA49a2935BcD2dFCF4"  # the victim multisig (Bybit's address)
PAYLOAD = "0x96221423681A6d52E184D440a8eFCEbB105C7242"  # the attacker's delegatecall target
EVIL_IMPL = "0xbDd077f651EBe7f7b3cE16fe5F2b025BE2969516"  # the malicious implementation
THIEVES = (ATTACKER, SAFE, PAYLOAD, EVIL_IMPL)
# The legitimate withdrawal: above the hot auto-approval (two approvers), below the
# monitor's large-withdrawal-to-a-new-address hold.
LEGIT_ETH = "5"
SETTLED = 3 * 24 * 3600  # the exchange's set-up (people, address book) is days old
ETH = 10**18


def replay(name: str, bench: Bench) -> Result:
    """Run scenario `name` on `bench` (a fresh exchange: one replay per bench)."""
    if name not in SCENARIOS:
        raise InputError("name", f"no replay {name!r}; known: {', '.join(SCENARIOS)}")
    return PLAYS[name](SCENARIOS[name], bench)


# -- tampered withdrawals --------------------------------------------------------------


def _tampered(
    scenario: Scenario,
    bench: Bench,
    forge: Callable[[EthereumAdapter, dict[str, object]], bytes],
    *,
    whole: bool,
    tag: str,
) -> Result:
    bench.start_monitor()
    bench.pass_time(SETTLED)
    start = last_seq(bench.ctx)
    adapter = EthereumAdapter("devnet")
    hot = _wallet_address(bench)
    sent_before = bench.w3.eth.get_transaction_count(hot)
    thief_before = sum(bench.balance(a) for a in THIEVES)
    stack = bench.stack
    wd = stack.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount=LEGIT_ETH, destination=CUSTOMER),
        requester=bench.users["alice"],
        idempotency_key=f"replay-{scenario.name}",
        channel="api",
    )
    if wd.intent is None or wd.digest is None:
        raise RuntimeError(f"the legitimate withdrawal was not prepared: {wd.state} {wd.reason}")
    observations = [
        f"legitimate withdrawal {wd.id} of {LEGIT_ETH} ETH: {wd.state.value} {wd.reason or ''}"
    ]
    if not whole:
        bench.approve("bob", wd.id)  # the first approval, over the legitimate digest
    moves.rewrite(bench, wd.id, forge(adapter, dict(wd.intent)), whole=whole)
    observations.append(f"attacker rewrote the {tag} waiting for signatures")
    for name in ("carol",) if not whole else ("bob", "carol"):
        try:
            view = bench.approve(name, wd.id)
            observations.append(f"{name} approved: withdrawal {view.state.value}")
        except KinkoError as exc:
            observations.append(f"{name}'s approval refused: {exc.message}")
    lost = sum(bench.balance(a) for a in THIEVES) - thief_before
    landed = _forged_on_chain(bench, hot, sent_before)
    if landed:
        # No Safe is deployed on the replay's chain: a forged call that reaches it hands
        # the wallet (and what it holds) over; count what the attacker went for.
        lost = max(lost, scenario.attempted_units)
        observations.append(f"the forged transaction is on chain: {landed}")
    entries = audit_entries(bench.ctx, after_seq=start)
    controls = _controls(entries, wd.id)
    frozen = [e for e in entries if e.action == "freeze.set"]
    outcome = _judge(lost, scenario, refused=bool(controls), frozen=bool(frozen))
    return Result(
        scenario=scenario,
        outcome=outcome,
        asset="ETH",
        decimals=18,
        loss_units=max(lost, 0),
        alert_after_s=None,
        freeze_after_s=None,
        controls=tuple(controls),
        observations=tuple(observations + _refusals(entries)),
    )


def _forged_on_chain(bench: Bench, hot: str, sent_before: int) -> str:
    """The hot wallet's transactions since `sent_before` that did not pay the customer."""
    w3 = bench.w3
    found = []
    for number in range(w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == hot and tx["nonce"] >= sent_before and tx["to"] != CUSTOMER:
                found.append("0x" + bytes(tx["hash"]).hex().removeprefix("0x"))
    return ", ".join(found)


def _controls(entries: list[Entry], withdrawal_id: str) -> list[Control]:
    """The checks that refused (`signer.refused` by code, `withdrawal.denied`/`failed`),
    the freezes and the monitor's alerts, each with its entries' sequence numbers."""
    named: dict[str, list[int]] = {}
    for e in entries:
        if e.action == "signer.refused" and e.subject == withdrawal_id:
            named.setdefault(f"signer:{e.details.get('code', 'refused')}", []).append(e.seq)
        elif e.action in ("withdrawal.denied", "withdrawal.failed", "withdrawal.rejected"):
            named.setdefault(e.action, []).append(e.seq)
        elif e.action == "freeze.set":
            named.setdefault(f"freeze:{e.details.get('scope', 'wallet')}", []).append(e.seq)
        elif e.action == "monitor.alert":
            named.setdefault(f"rule:{e.details.get('rule', e.subject)}", []).append(e.seq)
    return [Control(name, tuple(seqs)) for name, seqs in named.items()]


def _refusals(entries: list[Entry]) -> list[str]:
    return [
        f"audit #{e.seq} {e.action}: {_short(e.details.get('reason') or e.details.get('code'))}"
        for e in entries
        if e.action in ("signer.refused", "withdrawal.denied", "withdrawal.failed", "freeze.set")
    ]


def _short(text: object, limit: int = 160) -> str:
    words = str(text)
    return words if len(words) <= limit else words[: limit - 1] + "…"


def _judge(lost: int, scenario: Scenario, *, refused: bool, frozen: bool) -> Outcome:
    if lost <= 0 and refused:
        return Outcome.STOPPED
    cap = scenario.hot_cap_units
    if lost > 0 and cap is not None and lost <= cap and frozen:
        return Outcome.BOUNDED
    return Outcome.NOT_STOPPED


def _wallet_address(bench: Bench) -> str:
    return str(bench.w3.eth.accounts[0])


def dmm(scenario: Scenario, bench: Bench) -> Result:
    """The signed transaction is rewritten to pay the attacker the historical amount;
    the digest the approvers already approved stays on record."""

    def forge(adapter: EthereumAdapter, intent: dict[str, object]) -> bytes:
        return moves.transfer_payload(adapter, intent, ATTACKER, scenario.attempted_units)

    return _tampered(scenario, bench, forge, whole=False, tag="transaction")


def bybit(scenario: Scenario, bench: Bench) -> Result:
    """The payload the approvers' (tampered) screens show as the routine transfer is a
    Safe execTransaction delegatecalling the attacker's contract, which rewrites the
    Safe's implementation slot; digest and intent on record are the attacker's too."""
    sweep = moves.encode_call(
        "transfer(address,uint256)", ["address", "uint256"], [EVIL_IMPL, scenario.attempted_units]
    )

    def forge(adapter: EthereumAdapter, intent: dict[str, object]) -> bytes:
        data = moves.safe_exec(PAYLOAD, sweep, operation=1)
        return moves.call_payload(adapter, intent, SAFE, data)

    return _tampered(scenario, bench, forge, whole=True, tag="transaction, digest and intent")


def wazirx(scenario: Scenario, bench: Bench) -> Result:
    """The payload is the Safe's own upgrade: execTransaction calling
    `changeMasterCopy(attacker's implementation)` on itself."""
    upgrade = moves.encode_call("changeMasterCopy(address)", ["address"], [EVIL_IMPL])

    def forge(adapter: EthereumAdapter, intent: dict[str, object]) -> bytes:
        return moves.call_payload(
            adapter, intent, SAFE, moves.safe_exec(SAFE, upgrade, operation=0)
        )

    return _tampered(scenario, bench, forge, whole=True, tag="transaction, digest and intent")


def radiant(scenario: Scenario, bench: Bench) -> Result:
    """The payload is `transferOwnership(attacker)` on the lending pool's provider,
    through the Safe (as the three signers' hardware wallets blind-signed it)."""
    handover = moves.encode_call("transferOwnership(address)", ["address"], [ATTACKER])

    def forge(adapter: EthereumAdapter, intent: dict[str, object]) -> bytes:
        return moves.call_payload(
            adapter, intent, SAFE, moves.safe_exec(EVIL_IMPL, handover, operation=0)
        )

    return _tampered(scenario, bench, forge, whole=True, tag="transaction, digest and intent")


# -- a raw key signing outside Kinko ---------------------------------------------------


def _raw_key(scenario: Scenario, bench: Bench, theft: list[tuple[int, int]]) -> Result:
    """`theft`: (seconds after the previous transaction, amount) per transaction; an
    amount of 0 takes what is left. The hot wallet holds the scenario's cap."""
    from kinko.replays.hot import fund_capped_hot_wallet

    cap = scenario.hot_cap_units
    if cap is None:
        raise InputError("hot_cap_units", f"{scenario.name} sets no hot-wallet cap")
    bench.start_monitor()
    hot, key = fund_capped_hot_wallet(bench, cap)
    watcher = ChainWatcher(
        bench.ctx, {("ethereum", "devnet"): EthereumAdapter("devnet", web3=bench.w3)}
    )
    bench.pass_time(SETTLED)
    watcher.poll_once()  # the watcher starts at the current block
    start = last_seq(bench.ctx)
    thief_before = bench.balance(ATTACKER)
    first: datetime | None = None
    observations: list[str] = []
    for wait, amount in theft:
        _travel(bench, wait)
        left = bench.balance(hot) - 21_000 * moves.max_fee(bench)
        value = min(amount, left) if amount else left
        if value <= 0:
            observations.append("the hot wallet is empty: nothing more to take")
            break
        txid, number = moves.raw_send(bench, key, ATTACKER, value)
        mined = bench.chain_time(number)
        first = first or mined
        bench.sync_clock(timedelta(seconds=DEFAULT_INTERVAL_S))  # the watcher's next poll
        events = watcher.poll_once()
        observations.append(
            f"theft tx {txid[:18]}… {value} wei; the watcher's poll reported {len(events)} "
            "outflow(s)"
        )
    stolen = bench.balance(ATTACKER) - thief_before
    refill = _refill(bench, hot)
    observations.append(f"rebalancing refill into the drained hot wallet: {refill}")
    entries = audit_entries(bench.ctx, after_seq=start)
    controls = _controls(entries, "")
    fired = [a for a in alerts(bench.ctx) if first is not None and a.created_at >= first]
    freezes = [e for e in entries if e.action == "freeze.set"]
    return Result(
        scenario=scenario,
        outcome=_judge(stolen, scenario, refused=False, frozen=bool(freezes)),
        asset="ETH",
        decimals=18,
        loss_units=stolen,
        alert_after_s=_after(first, fired[0].created_at if fired else None),
        freeze_after_s=_after(first, freezes[0].time if freezes else None),
        controls=tuple(controls),
        observations=tuple(observations + _refusals(entries)),
        refill_state=refill.split(":")[0],
    )


def _travel(bench: Bench, seconds: int) -> None:
    if seconds > 0:
        bench.pass_time(seconds)


def _after(first: datetime | None, when: datetime | None) -> float | None:
    if first is None or when is None:
        return None
    return (when - first).total_seconds()


def _refill(bench: Bench, hot: str) -> str:
    """The exchange's rebalancing asks to refill the (drained) hot wallet from warm; the
    withdrawal's state once Kinko (policy, monitor) has dealt with it, and why."""
    try:
        view = bench.stack.withdrawals.request(
            WithdrawalRequest(
                asset="ETH",
                amount="10",
                destination=hot,
                source_wallet=bench.warm_wallet,
                memo="rebalance:refill_from_warm",
            ),
            requester=bench.users["alice"],
            idempotency_key="replay-refill",
            channel="rebalance",
        )
    except KinkoError as exc:
        return f"refused: {exc.message}"
    view = bench.stack.withdrawals.get(view.id)
    return f"{view.state.value}: {_short(view.reason or '')}"


def coincheck(scenario: Scenario, bench: Bench) -> Result:
    """A 10-unit test, then six transactions over eight minutes, then three more by 08:26
    (the historical rhythm, compressed only where the wallet is already empty)."""
    test = 10 * 10**9  # 10 XEM as 10 gwei: a test of the key
    rhythm = [(0, test)] + [(80, scenario.attempted_units // 6)] * 6 + [(3600, 0)] * 3
    return _raw_key(scenario, bench, rhythm)


def upbit_2019(scenario: Scenario, bench: Bench) -> Result:
    """One transaction of the whole historical amount."""
    return _raw_key(scenario, bench, [(0, scenario.attempted_units)])


PLAYS: dict[str, Callable[[Scenario, Bench], Result]] = {
    "dmm-bitcoin-2024": dmm,
    "bybit-2025": bybit,
    "wazirx-2024": wazirx,
    "radiant-2024": radiant,
    "coincheck-2018": coincheck,
    "upbit-2019": upbit_2019,
}
