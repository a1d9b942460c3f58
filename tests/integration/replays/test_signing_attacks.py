"""The replays where a Safe transaction is altered on its way to the signer (Bybit,
WazirX, Radiant; DMM Bitcoin: test_dmm_bitcoin.py), on both databases: the replay deploys
the incident's contracts (a Safe owned by the hot wallet, the thief's contracts, Radiant's
pool), the forged execTransaction is refused by the signer's own decoding, the thief's
follow-up move reverts on chain, and the loss read from the chain is 0: stopped.

Then the counterfactual, on the same chain and not part of the replay's verdict: the very
payload Kinko's signer refused, signed with the hot wallet's raw key outside Kinko (as the
incidents' signers signed on their devices), and the thief's follow-up empty the contract
the replay deployed — so Kinko's "loss 0" is the chain's, not the replay's belief."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kinko.chains.base import CallKind
from kinko.chains.ethereum import calldata
from kinko.chains.ethereum import tx as txmod
from kinko.chains.ethereum.adapter import EthereumAdapter
from kinko.chains.ethereum.address import to_checksum
from kinko.demo.exchange import HOT_KEY
from kinko.replays.bench import Bench, audit_entries
from kinko.replays.heists import THIEF_KEY, send, sweep_eth
from kinko.replays.model import Outcome, Result
from kinko.replays.moves import encode_call
from kinko.replays.reading import ATTACKER
from kinko.replays.runner import replay
from kinko.store.tables.withdrawals import WithdrawalRow

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def controls(result: Result) -> dict[str, tuple[int, ...]]:
    return {c.name: c.audit_seqs for c in result.controls}


def assert_recorded(bench: Bench, result: Result) -> None:
    """Every control the result names points at audit entries that exist and say so."""
    by_seq = {e.seq: e for e in audit_entries(bench.ctx)}
    for control in result.controls:
        assert control.audit_seqs, control
        for seq in control.audit_seqs:
            action = by_seq[seq].action
            assert action.split(".")[0] in {"signer", "freeze", "monitor", "withdrawal"}, action


def assert_stopped_by_signer(bench: Bench, result: Result, code: str) -> None:
    assert result.outcome is Outcome.STOPPED
    assert result.loss_units == 0 and result.loss_share == 0
    assert bench.balance(ATTACKER) == 0
    found = controls(result)
    assert f"signer:{code}" in found, found
    assert "freeze:wallet" in found and "withdrawal.failed" in found
    assert_recorded(bench, result)


def assert_stopped_on_chain(bench: Bench, result: Result) -> None:
    """Refused by the signer, and the chain agrees: the thief's follow-up reverted and
    nothing left the contract holding the funds."""
    assert_stopped_by_signer(bench, result, "dangerous_call")
    assert "rule:kinko-dangerous-contract-call" in controls(result)
    assert not any(o.startswith("the forged transaction is on chain") for o in result.observations)
    (said,) = [o for o in result.observations if o.startswith("the thief's follow-up")]
    assert "reverted" in said and "lost 0 wei" in said and "gained 0 wei" in said, said


def signed_outside_kinko_drains(bench: Bench, result: Result, *, pool: bool) -> None:
    """The counterfactual: the payload the signer refused, signed with the hot wallet's
    raw key and sent, then the thief's follow-up, move the contract's whole holding (the
    Safe's, or with `pool` the pool's the Safe owns) to the thief."""
    with bench.ctx.db.reading() as session:
        (payload,) = session.execute(select(WithdrawalRow.unsigned_tx)).scalars()
    tx = txmod.parse(payload)
    info = calldata.classify(to_checksum(tx.to), tx.value, tx.data)
    assert info.kind is CallKind.DANGEROUS and info.function == calldata.EXEC_TRANSACTION
    assert info.inner is not None
    vault = info.inner.destination if pool else to_checksum(tx.to)
    held = bench.balance(vault)
    assert held == result.scenario.attempted_units  # funded as the incident's, untouched
    raw = EthereumAdapter("devnet").sign(payload, HOT_KEY)
    receipt = bench.w3.eth.wait_for_transaction_receipt(bench.w3.eth.send_raw_transaction(raw))
    assert receipt["status"] == 1
    take = (
        encode_call("withdraw(address,uint256)", ["address", "uint256"], [ATTACKER, held])
        if pool
        else sweep_eth()
    )
    assert send(bench.w3, THIEF_KEY, vault, take).status == 1
    assert bench.balance(vault) == 0 and bench.balance(ATTACKER) == held


def test_bybit_delegatecall_is_refused_and_would_have_emptied_the_safe(bench: Bench) -> None:
    result = replay("bybit-2025", bench)
    assert_stopped_on_chain(bench, result)
    # The cloud-side break-in, fed to the monitor as CloudTrail records two days before:
    # the refused MFA registrations and the front end's swapped JavaScript alert, and the
    # two by one identity are critical, before anyone signs.
    seen = result.observations[0]
    assert seen.startswith("cloud-side break-in"), seen
    for rule in (
        "kinko-cloud-mfa-registration-refused",
        "kinko-signing-frontend-changed-by-person",
        "kinko-cloud-mfa-refused-then-frontend-change",
    ):
        assert rule in seen, seen
    deployed = result.observations[1]
    assert deployed.startswith("deployed: Safe (proxy) 0x") and "trojan 0x" in deployed
    signed_outside_kinko_drains(bench, result, pool=False)


def test_wazirx_upgrade_is_refused_and_would_have_emptied_the_safe(bench: Bench) -> None:
    result = replay("wazirx-2024", bench)
    assert_stopped_on_chain(bench, result)
    signed_outside_kinko_drains(bench, result, pool=False)


def test_radiant_transfer_ownership_is_refused_and_would_have_emptied_the_pool(
    bench: Bench,
) -> None:
    """`transferOwnership` hands the pool to the thief: the signer's decoding classes it
    as dangerous (an ownership change) and refuses it."""
    result = replay("radiant-2024", bench)
    assert_stopped_on_chain(bench, result)
    signed_outside_kinko_drains(bench, result, pool=True)
