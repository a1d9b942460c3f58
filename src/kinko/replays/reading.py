"""Reading a replay's outcome from Kinko's records (audit log, alerts, freezes), and the
names the replays share."""

from __future__ import annotations

from datetime import datetime

from kinko.chains.ethereum.address import to_checksum
from kinko.replays.bench import Entry
from kinko.replays.model import Control, Outcome, Result, Scenario

CUSTOMER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # the legitimate destination
ATTACKER = to_checksum(bytes.fromhex("a77acce2" * 5))  # the thief's address (made up)
SETTLED = 3 * 24 * 3600  # the exchange's set-up (people, address book) is days old


def controls(entries: list[Entry], withdrawal_id: str) -> list[Control]:
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
        elif e.action == "inspection.incident_draft":
            named.setdefault("notice:incident_draft", []).append(e.seq)
        elif e.action.startswith("custody.nonce_check"):
            named.setdefault(e.action.replace("custody.", "custody:"), []).append(e.seq)
        elif e.action == "monitor.alert":
            named.setdefault(f"rule:{e.details.get('rule', e.subject)}", []).append(e.seq)
    return [Control(name, tuple(seqs)) for name, seqs in named.items()]


def refusals(entries: list[Entry]) -> list[str]:
    return [
        f"audit #{e.seq} {e.action}: {short(e.details.get('reason') or e.details.get('code'))}"
        for e in entries
        if e.action in ("signer.refused", "withdrawal.denied", "withdrawal.failed", "freeze.set")
    ]


def short(text: object, limit: int = 160) -> str:
    words = str(text)
    return words if len(words) <= limit else words[: limit - 1] + "…"


def judge(lost: int, scenario: Scenario, *, refused: bool, frozen: bool) -> Outcome:
    if lost <= 0 and refused:
        return Outcome.STOPPED
    cap = scenario.hot_cap_units
    if lost > 0 and cap is not None and lost <= cap and frozen:
        return Outcome.BOUNDED
    return Outcome.NOT_STOPPED


def signing_attack(
    scenario: Scenario,
    *,
    lost: int,
    asset: str,
    decimals: int,
    acted: list[Control],
    entries: list[Entry],
    observations: list[str],
) -> Result:
    """The result of an attack on what is signed (DMM, Bybit, WazirX, Radiant): stopped
    when nothing was lost and a signer check or a withdrawal refusal acted; no alert or
    freeze timing (nothing left the wallet to time)."""
    outcome = judge(
        lost,
        scenario,
        refused=any(c.name.startswith(("signer:", "withdrawal.")) for c in acted),
        frozen=any(e.action == "freeze.set" for e in entries),
    )
    return Result(
        scenario=scenario,
        outcome=outcome,
        asset=asset,
        decimals=decimals,
        loss_units=max(lost, 0),
        alert_after_s=None,
        freeze_after_s=None,
        controls=tuple(acted),
        observations=tuple(observations + refusals(entries)),
    )


def after(first: datetime | None, when: datetime | None) -> float | None:
    if first is None or when is None:
        return None
    return (when - first).total_seconds()
