"""Reserves against liabilities, asset by asset, never netted (pure).

A surplus in one asset never covers a shortfall in another: the "dummy user" attack
Binance's documentation describes (fake users setting an illiquid token's equity against
debt in a major asset) and the regulators' rule (Japan's Cabinet Office Ordinance, Korea's
VAUPA: customers' assets held in full, of the same kind and quantity) both need it per
asset. Reserves are what customer wallets held at the custody snapshot of the same day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Coverage:
    asset: str
    liabilities: int
    reserves: int

    @property
    def passed(self) -> bool:
        return self.reserves >= self.liabilities

    @property
    def margin(self) -> int:
        return self.reserves - self.liabilities

    def to_json(self) -> dict[str, object]:
        return {
            "asset": self.asset,
            "liabilities": str(self.liabilities),
            "reserves": str(self.reserves),
            "passed": self.passed,
        }


def cover(liabilities: Mapping[str, int], reserves: Mapping[str, int]) -> tuple[Coverage, ...]:
    """One result per asset owed or held, sorted by asset."""
    assets = sorted(set(liabilities) | set(reserves))
    return tuple(Coverage(a, liabilities.get(a, 0), reserves.get(a, 0)) for a in assets)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A stored snapshot's result as the self-inspection reads it (CUS-05): its custody
    day, the audit entry recording its roots (and their digest, hex), each asset's proven
    reserves against liabilities, and the audit entries of its proofs of control."""

    id: str
    day: date
    audit_seq: int
    roots: str
    assets: tuple[Coverage, ...]
    controls: tuple[int, ...] = ()

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.assets)
