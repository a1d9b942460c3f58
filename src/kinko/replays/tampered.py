"""The replays of a transaction altered on its way to the signer (DMM Bitcoin, Bybit,
WazirX, Radiant): a legitimate withdrawal is requested through the real withdrawal
service; the attacker rewrites what waits for signing (the transaction, or the transaction
with its digest and the intent the approvers' screens show); the approvers approve over
the challenge Kinko issues them; the quorum-completing approval hands it to the real
signer. What left the wallet is read from the chain."""

from __future__ import annotations

from collections.abc import Callable

from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.core.errors import KinkoError
from kinko.monitor.service import MonitorService
from kinko.replays import moves
from kinko.replays.bench import Bench, audit_entries, last_seq
from kinko.replays.cloud import cloud_break_in
from kinko.replays.model import Result, Scenario
from kinko.replays.reading import ATTACKER, CUSTOMER, SETTLED, controls, judge, refusals
from kinko.withdrawals.intake import WithdrawalRequest

SAFE = "0x1Db92e2EeBC8E0c075a02BeA49a2935BcD2dFCF4"  # the victim multisig (Bybit's address)
PAYLOAD = "0x96221423681A6d52E184D440a8eFCEbB105C7242"  # the attacker's delegatecall target
EVIL_IMPL = "0xbDd077f651EBe7f7b3cE16fe5F2b025BE2969516"  # the malicious implementation
THIEVES = (ATTACKER, SAFE, PAYLOAD, EVIL_IMPL)
# The legitimate withdrawal: above the hot auto-approval (two approvers), below the
# monitor's large-withdrawal-to-a-new-address hold.
LEGIT_ETH = "5"


def _tampered(
    scenario: Scenario,
    bench: Bench,
    forge: Callable[[EthereumAdapter, dict[str, object]], bytes],
    *,
    whole: bool,
    tag: str,
    before: Callable[[Bench, MonitorService], str] | None = None,
) -> Result:
    monitor = bench.start_monitor()
    bench.pass_time(SETTLED)
    start = last_seq(bench.ctx)
    prelude = [] if before is None else [before(bench, monitor)]
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
    asked = f"legitimate withdrawal {wd.id} of {LEGIT_ETH} ETH: {wd.state.value} {wd.reason or ''}"
    observations = [*prelude, asked]
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
    acted = controls(entries, wd.id)
    frozen = [e for e in entries if e.action == "freeze.set"]
    outcome = judge(
        lost,
        scenario,
        refused=any(c.name.startswith(("signer:", "withdrawal.")) for c in acted),
        frozen=bool(frozen),
    )
    return Result(
        scenario=scenario,
        outcome=outcome,
        asset="ETH",
        decimals=18,
        loss_units=max(lost, 0),
        alert_after_s=None,
        freeze_after_s=None,
        controls=tuple(acted),
        observations=tuple(observations + refusals(entries)),
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


def _wallet_address(bench: Bench) -> str:
    return str(bench.w3.eth.accounts[0])


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

    return _tampered(
        scenario,
        bench,
        forge,
        whole=True,
        tag="transaction, digest and intent",
        before=cloud_break_in,
    )


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
