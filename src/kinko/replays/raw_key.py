"""The replays of a thief holding a hot wallet's raw key and signing outside Kinko
(Coincheck, Upbit 2019, Upbit 2025): the hot wallet holds its cap; the real chain watcher
polls the chain one interval after each block and the real monitor decides; then the
exchange's rebalancing asks to refill the drained wallet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from kinko.chains.base import DEFAULT_INTERVAL_S
from kinko.chains.ethereum import node
from kinko.chains.ethereum import tx as txmod
from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.chains.ethereum.address import address_bytes
from kinko.core.errors import InputError, KinkoError
from kinko.custody.keys import import_chain_signatures
from kinko.inspection.incident import draft
from kinko.inspection.incident_log import ACTION, save
from kinko.inspection.incident_records import incident_facts
from kinko.monitor.watcher import ChainWatcher
from kinko.replays import moves, weak
from kinko.replays.bench import Bench, Entry, alerts, audit_entries, last_seq
from kinko.replays.hot import fund_capped_hot_wallet
from kinko.replays.model import Result, Scenario
from kinko.replays.reading import (
    ATTACKER,
    CUSTOMER,
    SETTLED,
    after,
    controls,
    judge,
    refusals,
    short,
)
from kinko.withdrawals.intake import WithdrawalRequest

History = Callable[[Bench, str, bytes], None]
Learn = Callable[[Bench, str, list[str]], bytes]
Wallet = Callable[[Bench, Scenario, list[str]], tuple[str, bytes]]


def capped_hot(bench: Bench, scenario: Scenario, observations: list[str]) -> tuple[str, bytes]:
    """The hot wallet, holding the scenario's cap; (address, the key the thief holds)."""
    cap = scenario.hot_cap_units
    if cap is None:
        raise InputError("hot_cap_units", f"{scenario.name} sets no hot-wallet cap")
    return fund_capped_hot_wallet(bench, cap)


def drain(
    scenario: Scenario,
    bench: Bench,
    theft: list[tuple[int, int]],
    *,
    history: History | None = None,
    learn: Learn | None = None,
    wallet: Wallet = capped_hot,
    refill: bool = True,
) -> Result:
    """`theft`: (seconds after the previous transaction, amount) per transaction; an
    amount of 0 takes what is left. The hot wallet holds the scenario's cap. `history`
    acts on the chain before Kinko watches it; `learn` is how the thief comes by the key
    (by default they hold it), once Kinko watches; `wallet` sets up the wallet robbed."""
    bench.start_monitor()
    observations: list[str] = []
    hot, key = wallet(bench, scenario, observations)
    if history is not None:
        history(bench, hot, key)
    watcher = ChainWatcher(
        bench.ctx, {("ethereum", "devnet"): EthereumAdapter("devnet", web3=bench.w3)}
    )
    bench.pass_time(SETTLED)
    watcher.poll_once()  # the watcher starts at the current block
    start = last_seq(bench.ctx)
    thief_before = bench.balance(ATTACKER)
    first: datetime | None = None
    if learn is not None:
        key = learn(bench, hot, observations)
    notice: Entry | None = None
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
        notice = notice or _notice(bench, first)
    stolen = bench.balance(ATTACKER) - thief_before
    refilled = _refill(bench, hot) if refill else None
    if refilled is not None:
        observations.append(f"rebalancing refill into the drained wallet: {refilled}")
    entries = audit_entries(bench.ctx, after_seq=start)
    acted = controls(entries, "")
    fired = [a for a in alerts(bench.ctx) if first is not None and a.created_at >= first]
    freezes = [e for e in entries if e.action == "freeze.set"]
    return Result(
        scenario=scenario,
        outcome=judge(stolen, scenario, refused=False, frozen=bool(freezes)),
        asset="ETH",
        decimals=18,
        loss_units=stolen,
        alert_after_s=after(first, fired[0].created_at if fired else None),
        freeze_after_s=after(first, freezes[0].time if freezes else None),
        controls=tuple(acted),
        observations=tuple(observations + refusals(entries)),
        refill_state=None if refilled is None else refilled.split(":")[0],
        notice_after_s=after(first, notice.time if notice else None),
    )


def _notice(bench: Bench, since: datetime | None) -> Entry | None:
    """The security officer's draft incident notice (`kinko inspect incident ALERT
    --save`), drafted from the first alert since `since`, as soon as there is one."""
    fired = [a for a in alerts(bench.ctx) if since is not None and a.created_at >= since]
    if not fired:
        return None
    ctx = bench.ctx
    with ctx.db.transaction() as session:
        alert, responses = incident_facts(session, bench.triage, fired[0].id)
        found = draft(alert, responses, ctx.clock.now())
        saved = save(ctx, session, found, alert, actor="system:replay-officer")
    (entry,) = audit_entries(ctx, after_seq=saved.audit_seq - 1, prefix=ACTION)[:1]
    return entry


def _travel(bench: Bench, seconds: int) -> None:
    if seconds > 0:
        bench.pass_time(seconds)


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
    return f"{view.state.value}: {short(view.reason or '')}"


def coincheck(scenario: Scenario, bench: Bench) -> Result:
    """A 10-unit test, then six transactions over eight minutes, then three more by 08:26
    (the historical rhythm, compressed only where the wallet is already empty)."""
    test = 10 * 10**9  # 10 XEM as 10 gwei: a test of the key
    rhythm = [(0, test)] + [(80, scenario.attempted_units // 6)] * 6 + [(3600, 0)] * 3
    return drain(scenario, bench, rhythm)


def upbit_2019(scenario: Scenario, bench: Bench) -> Result:
    """One transaction of the whole historical amount."""
    return drain(scenario, bench, [(0, scenario.attempted_units)])


# -- Upbit 2025: a key inferable from its own signatures -------------------------------

WEAK_NONCE = 0x5EED  # the broken generator's nonce (at its extreme: the same k each time)
WEAK_PAYOUTS = 2
PAYOUT = 10**16  # 0.01 ETH each, to a customer


def _weak_history(bench: Bench, hot: str, key: bytes) -> None:
    """Before Kinko watches: the exchange's old wallet software pays two customers,
    signing with the same nonce (its signatures public on the chain ever since)."""
    w3 = bench.w3
    for _ in range(WEAK_PAYOUTS):
        unsigned = txmod.Eip1559Tx(
            chain_id=int(w3.eth.chain_id),
            nonce=int(w3.eth.get_transaction_count(hot)),
            max_priority_fee_per_gas=10**9,
            max_fee_per_gas=moves.max_fee(bench),
            gas_limit=21_000,
            to=address_bytes(CUSTOMER, field="to"),
            value=PAYOUT,
        )
        signed = weak.sign_with_nonce(unsigned, key, WEAK_NONCE)
        w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw()))


def _self_test_then_infer(verdict: list[str]) -> Learn:
    def learn(bench: Bench, hot: str, observations: list[str]) -> bytes:
        """Kinko's nonce self-test over the chain's signatures (`kinko custody
        nonce-check`: a failed test freezes the wallet at once, through the freeze service,
        monitor or not), then the thief reads the same signatures and computes the key."""
        ctx = bench.ctx
        adapter = EthereumAdapter("devnet", web3=bench.w3)
        added, _, _ = import_chain_signatures(ctx, adapter, [hot], None)
        report = bench.nonce_check("system:nonce-self-test")  # a failure freezes at once
        verdict.append(
            f"flagged: {len(report.findings)} finding(s) over {report.scanned} signatures; "
            f"frozen at once: {', '.join(report.frozen) or 'nothing'}"
            if report.findings
            else f"passed over {report.scanned} signatures"
        )
        observations.append(f"nonce self-test before the theft: {verdict[0]} ({added} imported)")
        bench.pass_time(3600)  # nobody moves the funds within the hour
        history = node.signed_history(bench.w3, {hot}, None, adapter.chain_id)[0]
        by_r: dict[int, list[txmod.Eip1559Tx]] = {}
        for tx in history:
            if tx.signature is not None:
                by_r.setdefault(tx.signature.r, []).append(tx)
        pair = next(group for group in by_r.values() if len(group) > 1)
        observations.append("the thief computed the hot wallet's key from two public signatures")
        return weak.recover_key(pair[0], pair[1], hot)

    return learn


def upbit_2025(scenario: Scenario, bench: Bench) -> Result:
    """24 transactions (one per token the thief took), 135 s apart."""
    verdict: list[str] = []
    rhythm = [(0 if i == 0 else 135, scenario.attempted_units // 24) for i in range(24)]
    result = drain(
        scenario, bench, rhythm, history=_weak_history, learn=_self_test_then_infer(verdict)
    )
    return replace(result, weak_key=verdict[0] if verdict else None)
