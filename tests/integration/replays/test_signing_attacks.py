"""The replays where a transaction is altered on its way to the signer (Bybit, WazirX,
Radiant; DMM Bitcoin: test_dmm_bitcoin.py): the outcome as Kinko recorded it, on both
databases."""

from __future__ import annotations

import pytest

from kinko.replays.bench import Bench, audit_entries
from kinko.replays.model import Outcome, Result
from kinko.replays.reading import ATTACKER
from kinko.replays.runner import replay

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


def test_bybit_delegatecall_is_refused_by_the_signers_decoding(bench: Bench) -> None:
    result = replay("bybit-2025", bench)
    assert_stopped_by_signer(bench, result, "dangerous_call")
    assert "rule:kinko-dangerous-contract-call" in controls(result)
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


def test_wazirx_upgrade_is_refused_by_the_signers_decoding(bench: Bench) -> None:
    result = replay("wazirx-2024", bench)
    assert_stopped_by_signer(bench, result, "dangerous_call")


def test_radiant_transfer_ownership_is_refused_by_the_signers_decoding(bench: Bench) -> None:
    """`transferOwnership` hands the contract to the attacker: the signer's decoding
    classes it as dangerous (an ownership change) and refuses it."""
    result = replay("radiant-2024", bench)
    assert_stopped_by_signer(bench, result, "dangerous_call")
