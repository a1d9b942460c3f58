"""Where a snapshot's liabilities came from, and their check against custody (pure).

A snapshot is built from custody's liabilities statement at a time (`Source.statement`,
its file's digest) or from a ledger file (its digest only); either way each asset's tree
total must equal what custody's snapshot of the day says customers are owed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from kinko.core.errors import InputError
from kinko.reserves.roots import Roots


@dataclass(frozen=True, slots=True)
class Source:
    """What a snapshot's liabilities came from: a custody statement (its id and file
    digest) or a ledger file (its digest only)."""

    statement: str | None
    digest: bytes | None

    def details(self) -> dict[str, str]:
        """The audit entry's fields naming it (none for rows of unknown origin)."""
        out = {} if self.statement is None else {"statement": self.statement}
        if self.digest is not None:
            out["statement_digest" if self.statement else "ledger_digest"] = self.digest.hex()
        return out

    def to_json(self) -> dict[str, str | None]:
        digest = None if self.digest is None else self.digest.hex()
        return {"statement": self.statement, "digest": digest}


def check_totals(roots: Roots, owed: Mapping[str, int], day: date, source: Source) -> None:
    """Each asset's tree total must be what custody says customers are owed that day."""
    field, what, fix = (
        "ledger",
        "the ledger's",
        "export the ledger at the moment of the custody snapshot",
    )
    if source.statement is not None:
        field, what = "at", f"statement {source.statement}'s"
        fix = "take the custody snapshot after importing that statement (or give --at, --day)"
    for root in roots.assets:
        if root.asset not in owed:
            raise InputError(
                field,
                f"customers hold {root.asset}, which custody's liabilities for {day} do not "
                "list; import liabilities for every asset before the custody snapshot",
            )
        if root.total != owed[root.asset]:
            raise InputError(
                field,
                f"{what} {root.asset} balances add up to {root.total} base units; "
                f"custody's liabilities for {day} say {owed[root.asset]}: {fix}",
            )
