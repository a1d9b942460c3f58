"""What a run reads besides the daily snapshots, as values (pure).

- `RegisterHistory`: every version of every governance-register record with the time it
  applied (`register_records.recorded_at`: the approval that wrote it). `on(day)` is the
  register as it stood at the end of that UTC day: per record, the latest version applied
  on or before the day, removed records left out. A record entered today says nothing
  about last month: on the days before it applied the register did not hold it.
- `Activity`: per Kinko user, the day the account was created and the days it signed in
  (a console or CLI session began), for the dormant-account rule.
- `Signature`: one ECDSA signature of the exchange's keys from the signature log, with the
  day it was recorded, for the nonce-reuse rule.

The service that reads them from the store is `kinko.inspection.records`.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from kinko.core.canonical import canonical_json
from kinko.inspection.register import Kind, Record


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a register record and when it applied."""

    kind: Kind
    key: str
    version: int
    applied: datetime
    record: Record | None
    """None: this version removed the record."""
    digest: str | None
    """SHA-256 of the record's canonical JSON, as the ``inspection.register_change``
    audit entry holds it."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A record current on some day."""

    kind: Kind
    key: str
    version: int
    record: Record
    digest: str

    @property
    def path(self) -> str:
        return f"register[{self.kind.value}/{self.key}]@v{self.version}"


@dataclass
class RegisterHistory:
    versions: tuple[Version, ...]
    _days: dict[date, dict[Kind, tuple[Entry, ...]]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.versions = tuple(sorted(self.versions, key=lambda v: (v.applied, v.version)))

    def on(self, day: date) -> dict[Kind, tuple[Entry, ...]]:
        """The current records of each kind at the end of `day`, by key."""
        held = self._days.get(day)
        if held is not None:
            return held
        latest: dict[tuple[Kind, str], Version] = {}
        for v in self.versions:
            if v.applied.date() > day:
                break
            latest[(v.kind, v.key)] = v
        out: dict[Kind, list[Entry]] = {}
        for (kind, key), v in sorted(latest.items()):
            if v.record is not None and v.digest is not None:
                out.setdefault(kind, []).append(Entry(kind, key, v.version, v.record, v.digest))
        held = self._days[day] = {k: tuple(e) for k, e in out.items()}
        return held

    def of(self, day: date, kind: Kind) -> tuple[Entry, ...]:
        return self.on(day).get(kind, ())


@dataclass(frozen=True, slots=True)
class Activity:
    """A Kinko account: created on `created`, signed in on `sign_ins` (sorted, each day once)."""

    created: date
    sign_ins: tuple[date, ...] = ()

    def last_on_or_before(self, day: date) -> date | None:
        i = bisect_right(self.sign_ins, day)
        return self.sign_ins[i - 1] if i else None


def activity(created: date, sign_ins: Iterable[date]) -> Activity:
    return Activity(created, tuple(sorted(set(sign_ins))))


@dataclass(frozen=True, slots=True)
class Signature:
    """An ECDSA signature of the signature log (`signature_log`), r and s as 64 hex digits."""

    chain: str
    txid: str
    public_key: str
    r: str
    s: str
    digest: str
    recorded: date

    @property
    def row_digest(self) -> str:
        """SHA-256 of the canonical JSON of the signature (what a failure's row names)."""
        doc = {
            "chain": self.chain,
            "txid": self.txid,
            "public_key": self.public_key,
            "r": self.r,
            "s": self.s,
            "digest": self.digest,
        }
        return hashlib.sha256(canonical_json(doc)).hexdigest()
