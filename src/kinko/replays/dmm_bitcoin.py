"""DMM Bitcoin, 2024-05-31, replayed on Bitcoin: a legitimate withdrawal from the
exchange's Bitcoin wallet altered, inside the wallet software, while it waits for
signatures.

The wallet is Kinko's cold P2WSH 2-of-3 wallet (`btc_bench`), holding 4,600 BTC of
synthetic outputs. A legitimate 0.1 BTC withdrawal to a booked customer address is
requested through the real withdrawal service (policy, address book, screening); the
attacker then rewrites the PSBT waiting for signatures to pay the thief 4,502.9 BTC —
once with the digest and intent on record, so that both approvers' screens show the
attacker's transaction consistently and both approve it; once the PSBT alone, after bob
approved the legitimate digest (carol approves next). The approval that completes the
quorum leaves a Bitcoin withdrawal approved: its keys sign offline, so the operator
exports the approval bundle and the key holders run `kinko cosign` on it, which decodes
the PSBT itself. Whatever refuses on the way (an approval, a key holder) is reported.

Nothing is broadcast (no Bitcoin node): the loss is what a thief would need, a fully
signed transaction paying them among what the cosigners and Kinko released
(`btc_bench.thief_takings`).
"""

from __future__ import annotations

from kinko.core.errors import KinkoError
from kinko.replays import moves
from kinko.replays.bench import Bench, audit_entries, last_seq
from kinko.replays.btc_bench import (
    CUSTOMER,
    THIEF,
    BtcWallet,
    Cosigning,
    cosign_offline,
    forge,
    open_wallet,
    prevouts,
    stored_signed,
    thief_takings,
    unspent,
)
from kinko.replays.model import Control, Result, Scenario
from kinko.replays.reading import SETTLED, controls, short, signing_attack
from kinko.withdrawals.intake import WithdrawalRequest
from kinko.withdrawals.states import State

APPROVAL_REFUSED = "withdrawal.approval_refused"
NOTHING = Cosigning((), ())
BUNDLE_REFUSED = "withdrawal.bundle_refused"
LEGIT_BTC = "0.1"  # two approvers (a cold wallet), below the monitor's new-address hold (0.2)


def dmm(scenario: Scenario, bench: Bench) -> Result:
    bench.start_monitor()
    wallet = open_wallet(bench)
    bench.pass_time(SETTLED)  # the wallet, its funding and the address book are days old
    start = last_seq(bench.ctx)
    observations: list[str] = []
    released: list[bytes] = []
    offline: set[str] = set()  # `kinko cosign`'s refusals: offline, no audit entry
    ids = []
    # The consistent rewrite first (the stronger move); once Kinko has caught it, the
    # wallet is frozen, and the second move (the PSBT alone) meets the freeze.
    for whole in (True, False):
        wd_id, seen, cosigning = _altered(scenario, bench, wallet, whole=whole)
        ids.append(wd_id)
        observations += seen
        released += cosigning.released
        if cosigning.not_exported is not None:
            observations.append(
                f"Kinko refused to export {wd_id}'s bundle for the key holders: "
                f"{short(cosigning.not_exported)}"
            )
        for holder, code, message in cosigning.refusals:
            offline.add(f"signer:{code}")
            observations.append(
                f"key holder {holder}'s kinko cosign refused {wd_id} ({code}): {short(message)}"
            )
    released += stored_signed(bench, wallet)
    lost, txids = thief_takings(wallet.adapter, released, prevouts(bench, wallet))
    observations.append(
        f"fully signed transactions paying the thief among {len(released)} released: "
        + (", ".join(txids) if txids else "none")
    )
    entries = audit_entries(bench.ctx, after_seq=start)
    seqs: dict[str, set[int]] = {}
    for wd_id in ids:
        for control in controls(entries, wd_id):
            seqs.setdefault(control.name, set()).update(control.audit_seqs)
    # An approval refused because the bytes on record no longer have the approved digest.
    # A bundle not exported because the record was rewritten after the decision.
    for e in entries:
        if e.action in (APPROVAL_REFUSED, BUNDLE_REFUSED) and e.subject in ids:
            seqs.setdefault(e.action, set()).add(e.seq)
    for name in sorted(offline):
        seqs.setdefault(name, set())
    return signing_attack(
        scenario,
        lost=lost,
        asset="BTC",
        decimals=8,
        acted=[Control(name, tuple(sorted(found))) for name, found in seqs.items()],
        entries=entries,
        observations=observations,
    )


def _altered(
    scenario: Scenario, bench: Bench, wallet: BtcWallet, *, whole: bool
) -> tuple[str, list[str], Cosigning]:
    """One legitimate withdrawal, altered (`whole`: with its digest and intent), approved
    and taken to the key holders; (its id, what was seen, the cosigners' outcome)."""
    wd = bench.stack.withdrawals.request(
        WithdrawalRequest(
            asset="BTC", amount=LEGIT_BTC, destination=CUSTOMER, source_wallet=wallet.wallet_id
        ),
        requester=bench.users["alice"],
        idempotency_key=f"replay-{scenario.name}-{'whole' if whole else 'tx'}",
        channel="api",
    )
    asked = f"legitimate withdrawal {wd.id} of {LEGIT_BTC} BTC to {CUSTOMER}: {wd.state.value}"
    if wd.state is not State.PENDING_APPROVAL or wd.intent is None:
        return wd.id, [f"{asked} ({wd.reason}): nothing waits for signatures"], NOTHING
    inputs = len(wd.intent["details"]["inputs"])
    seen = [f"{asked}; PSBT spending {inputs} output(s), digest {wd.digest}"]
    if not whole:
        bench.approve("bob", wd.id)  # over the legitimate digest
    forged = forge(wallet.adapter, unspent(bench, wallet), scenario.attempted_units)
    moves.rewrite(bench, wd.id, forged, whole=whole, adapter=wallet.adapter)
    what = "PSBT, digest and intent" if whole else "PSBT"
    seen.append(
        f"attacker rewrote the {what} waiting for signatures: "
        f"{scenario.attempted_units} sat to {THIEF}"
    )
    state: State = wd.state
    for name in ("bob", "carol") if whole else ("carol",):
        try:
            state = bench.approve(name, wd.id).state
            seen.append(f"{name} approved {wd.id}: withdrawal {state.value}")
        except KinkoError as exc:
            seen.append(f"{name}'s approval of {wd.id} refused ({exc.code}): {short(exc.message)}")
    if state is not State.APPROVED:
        seen.append(f"{wd.id} is {state.value}: nothing is handed to the key holders")
        return wd.id, seen, NOTHING
    # Approved: its keys sign offline, so the operator exports the bundle for them.
    return wd.id, seen, cosign_offline(bench, wd.id)
