"""How far a liabilities statement's totals fell against the statement before it.

Liabilities come from the exchange's own books, and one person (the `liabilities:import`
holder, or the ledger feed's token) imports them. Understated liabilities are how a
proof of reserves hides a shortfall (the "dummy user" and omission attacks in reverse):
customers whose accounts were left out can tell, but only if they check. So every import
is compared with the previous statement by cut-off, and the largest fall of any asset's
total is told to the monitor (``custody.liabilities_statement``), whose
`kinko-liabilities-dropped` rule alerts the security team on a sharp one. Pure: values
in, an event out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from kinko.core.events import SecurityEvent

BASIS_POINTS = 10_000


@dataclass(frozen=True, slots=True)
class Drop:
    """The asset whose total fell most (`asset`, None when none fell), by how much in
    basis points of its previous total (`basis_points`, 10,000 = all of it)."""

    asset: str | None
    basis_points: int


def largest_drop(previous: Mapping[str, int], now: Mapping[str, int]) -> Drop:
    """An asset the previous statement owed and this one owes less of (or not at all)."""
    worst = Drop(None, 0)
    for asset, before in sorted(previous.items()):
        after = now.get(asset, 0)
        if before <= 0 or after >= before:
            continue
        fell = (before - after) * BASIS_POINTS // before
        if fell > worst.basis_points:
            worst = Drop(asset, fell)
    return worst


def statement_event(
    *,
    statement_id: str,
    as_of: datetime,
    actor: str,
    previous_id: str | None,
    drop: Drop,
    now: datetime,
) -> SecurityEvent:
    fields: dict[str, object] = {
        "statement": statement_id,
        "as_of": as_of.isoformat(),
        "largest_drop_bp": drop.basis_points,
    }
    if previous_id is not None:
        fields["previous_statement"] = previous_id
    if drop.asset is not None:
        fields["largest_drop_asset"] = drop.asset
    return SecurityEvent(
        type="custody.liabilities_statement",
        time=now,
        actor=actor,
        outcome="success",
        severity="info" if drop.basis_points == 0 else "medium",
        fields=fields,
    )
