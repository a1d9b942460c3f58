"""The replays of a Safe transaction altered on its way to the signer (Bybit, WazirX,
Radiant). The incident's contracts are deployed first (`heists`: a Safe owned by the hot
wallet, the key Kinko's signer signs for; the thief's contracts; Radiant's pool). A
legitimate withdrawal is requested through the real withdrawal service; the attacker
rewrites what waits for signing — the transaction, its digest and the intent the
approvers' screens show — into the hot wallet's call of the forged `execTransaction`; the
approvers approve over the challenge Kinko issues them; the quorum-completing approval
hands it to the real signer. Then the thief makes the incident's follow-up move, and the
loss is what the chain shows left the victim's contract or reached the thief."""

from __future__ import annotations

from collections.abc import Callable

from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.core.errors import KinkoError
from kinko.monitor.service import MonitorService
from kinko.replays import heists, moves
from kinko.replays.bench import Bench, audit_entries, last_seq
from kinko.replays.cloud import cloud_break_in
from kinko.replays.heists import Aftermath, Heist
from kinko.replays.model import Result, Scenario
from kinko.replays.reading import CUSTOMER, SETTLED, controls, signing_attack
from kinko.withdrawals.intake import WithdrawalRequest

# The legitimate withdrawal: above the hot auto-approval (two approvers), below the
# monitor's large-withdrawal-to-a-new-address hold.
LEGIT_ETH = "5"
Before = Callable[[Bench, MonitorService], str]


def _tampered(
    scenario: Scenario,
    bench: Bench,
    make: Callable[..., Heist],
    before: Before | None = None,
) -> Result:
    """`make` deploys the incident's contracts, the hot wallet the Safe's owner; `before`
    is what happens before the signing (Bybit: the cloud-side break-in), its words kept."""
    hot = str(bench.w3.eth.accounts[0])
    heist = make(bench.w3, hot, scenario.attempted_units)
    monitor = bench.start_monitor()
    bench.pass_time(SETTLED)
    start = last_seq(bench.ctx)
    observations = [] if before is None else [before(bench, monitor)]
    observations.append("deployed: " + ", ".join(f"{w} {a}" for w, a in heist.deployed))
    sent_before = bench.w3.eth.get_transaction_count(hot)
    wd = bench.stack.withdrawals.request(
        WithdrawalRequest(asset="ETH", amount=LEGIT_ETH, destination=CUSTOMER),
        requester=bench.users["alice"],
        idempotency_key=f"replay-{scenario.name}",
        channel="api",
    )
    if wd.intent is None or wd.digest is None:
        raise RuntimeError(f"the legitimate withdrawal was not prepared: {wd.state} {wd.reason}")
    observations.append(
        f"legitimate withdrawal {wd.id} of {LEGIT_ETH} ETH: {wd.state.value} {wd.reason or ''}"
    )
    adapter = EthereumAdapter("devnet")
    forged = moves.call_payload(adapter, dict(wd.intent), heist.safe, heist.forged)
    moves.rewrite(bench, wd.id, forged, whole=True)
    observations.append(
        "attacker rewrote the transaction, digest and intent waiting for signatures"
    )
    for name in ("bob", "carol"):
        try:
            view = bench.approve(name, wd.id)
            observations.append(f"{name} approved: withdrawal {view.state.value}")
        except KinkoError as exc:
            observations.append(f"{name}'s approval refused: {exc.message}")
    landed = _forged_on_chain(bench, hot, sent_before)
    if landed:
        observations.append(f"the forged transaction is on chain: {landed}")
    after = heists.aftermath(bench.w3, heist)
    observations.append(_aftermath_said(heist, after))
    entries = audit_entries(bench.ctx, after_seq=start)
    return signing_attack(
        scenario,
        lost=after.loss,
        asset="ETH",
        decimals=18,
        acted=controls(entries, wd.id),
        entries=entries,
        observations=observations,
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


def _aftermath_said(heist: Heist, after: Aftermath) -> str:
    done = "went through" if after.follow_up.status == 1 else "reverted"
    return (
        f"the thief's follow-up call to {heist.vault} ({after.follow_up.txid}) {done}; "
        f"read from the chain: the victim's contract lost {after.vault_drop} wei of "
        f"{heist.held}, the thief gained {after.thief_gain} wei"
    )


def bybit(scenario: Scenario, bench: Bench) -> Result:
    """The Safe delegatecalls the thief's trojan (operation=1), whose `transfer` writes
    the sweeper into the Safe's slot 0; the thief then calls `sweepETH` through the Safe.
    Two days before, the cloud-side break-in goes to the monitor."""
    return _tampered(scenario, bench, heists.bybit, before=cloud_break_in)


def wazirx(scenario: Scenario, bench: Bench) -> Result:
    """The Safe's own upgrade: execTransaction calling `changeMasterCopy(sweeper)` on
    itself; then `sweepETH` through the Safe."""
    return _tampered(scenario, bench, heists.wazirx)


def radiant(scenario: Scenario, bench: Bench) -> Result:
    """`transferOwnership(thief)` on the pool the Safe owns, through the Safe (as the
    three signers' hardware wallets blind-signed it); the new owner withdraws."""
    return _tampered(scenario, bench, heists.radiant)
