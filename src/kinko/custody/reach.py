"""A legal entity's reach of a wallet's quorum (pure): values in, a count or a refusal out.

An entity reaches the live shares it holds itself and the live shares of every entity
whose signing for the wallet was delegated to it by a live delegation, directly or down
a chain of delegations (A to B, B to C: C reaches A's and B's). A delegation is live from
its start until its end, unless revoked; past its end it counts for nothing (what relied
on it is treated as absent). No entity may reach the wallet's quorum m on its own: that
is the Ronin lesson (four own validator keys and a fifth signing allowance, never
revoked). A single-key wallet (m = 1) is one holder's by construction and is not
checked here; its bound is the hot-wallet cap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from kinko.core.errors import Conflict

CODE = "quorum_within_one_entity"
"""The stable error code of a refusal (API ``error``)."""


@dataclass(frozen=True, slots=True)
class Delegation:
    from_entity: str
    to_entity: str
    starts_at: datetime
    ends_at: datetime
    revoked: bool = False

    def live(self, now: datetime) -> bool:
        return not self.revoked and self.starts_at <= now < self.ends_at

    def expired(self, now: datetime) -> bool:
        return not self.revoked and now >= self.ends_at


@dataclass(frozen=True, slots=True)
class Reach:
    entity: str
    count: int
    own: int
    through: Mapping[str, int]  # delegating entity -> its live shares the entity reaches


def reach(
    share_entities: Iterable[str], delegations: Iterable[Delegation], now: datetime
) -> list[Reach]:
    """Every entity's reach (holders of shares and delegates), the largest first.
    `share_entities`: the legal entity of each live share, once per share."""
    held = Counter(share_entities)
    granted: dict[str, set[str]] = {}  # delegate -> entities delegating to it (live only)
    for d in delegations:
        if d.live(now) and d.from_entity != d.to_entity:
            granted.setdefault(d.to_entity, set()).add(d.from_entity)
    out = []
    for entity in sorted(set(held) | set(granted)):
        seen, todo = {entity}, [entity]
        while todo:
            for source in granted.get(todo.pop(), ()):
                if source not in seen:
                    seen.add(source)
                    todo.append(source)
        through = {e: held[e] for e in sorted(seen - {entity}) if held[e]}
        own = held[entity]
        out.append(Reach(entity, own + sum(through.values()), own, through))
    return sorted(out, key=lambda r: (-r.count, r.entity))


def check_reach(
    wallet: str,
    quorum_m: int,
    share_entities: Iterable[str],
    delegations: Iterable[Delegation],
    now: datetime,
) -> None:
    """Raise `Conflict` (code `CODE`) when one entity would reach `quorum_m` of `wallet`."""
    if quorum_m <= 1:
        return
    for r in reach(share_entities, delegations, now):
        if r.count >= quorum_m:
            how = f"{r.own} of its own"
            if r.through:
                how += " + " + ", ".join(f"{n} delegated by {e}" for e, n in r.through.items())
            raise Conflict(
                f"legal entity {r.entity!r} would reach {r.count} shares of wallet {wallet} "
                f"({how}) and the quorum is {quorum_m}: no entity may sign alone; give the "
                "share to a holder of another legal entity, or revoke the delegation "
                "('kinko custody delegations revoke ID')",
                code=CODE,
            )
