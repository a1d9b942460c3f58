"""Pure checks on list versions: is a list fresh enough to screen with, may a new version
replace the active one. They take `now` and return or raise; nothing here touches I/O."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from kinko.core.errors import Conflict, InputError
from kinko.screening.model import RESERVED_PUBLISHERS, ListName, ListVersion, ParsedList

_DEFAULT_MAX_AGES = MappingProxyType(
    {
        ListName("ofac-sdn"): timedelta(days=7),
        ListName("un-consolidated"): timedelta(days=7),
        ListName("kr-mofa"): timedelta(days=90),
    }
)


@dataclass(frozen=True, slots=True)
class ScreeningConfig:
    """What screening requires. The defaults are deliberately strict: fail closed.

    - `required_address_lists`: lists that must be loaded and fresh for an address
      verdict to be CLEAR (UN publishes no addresses, so it is not among them).
    - `required_name_lists`: the same for name verdicts.
    - `max_ages`: per list, measured from the file's publication date (or load time when
      the file has none); `default_max_age` for lists not named.
    - `max_drop_share`: a new version with fewer than (1 - share) x the active version's
      entries is refused as a probably truncated or wrong file.
    - `name_threshold`: name scores at or above go to review.
    """

    required_address_lists: tuple[ListName, ...] = (ListName("ofac-sdn"),)
    required_name_lists: tuple[ListName, ...] = (
        ListName("ofac-sdn"),
        ListName("un-consolidated"),
    )
    max_ages: Mapping[ListName, timedelta] = field(default_factory=lambda: _DEFAULT_MAX_AGES)
    default_max_age: timedelta = timedelta(days=30)
    max_drop_share: float = 0.10
    name_threshold: float = 0.88

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_drop_share < 1.0:
            raise InputError("max_drop_share", "must be at least 0 and below 1, e.g. 0.1")
        if not 0.5 <= self.name_threshold <= 1.0:
            raise InputError("name_threshold", "must be between 0.5 and 1.0, e.g. 0.88")
        if not self.required_address_lists and not self.required_name_lists:
            raise InputError("required lists", "at least one list must be required")

    def max_age(self, name: ListName) -> timedelta:
        return self.max_ages.get(name, self.default_max_age)


def staleness_reasons(
    active: Mapping[ListName, ListVersion],
    required: Sequence[ListName],
    config: ScreeningConfig,
    now: datetime,
) -> tuple[str, ...]:
    """Why screening against `active` must not be trusted at `now`; empty when it may.

    Every active list is checked for age, not only the required ones: a stale optional
    list (say, the exchange's own) would otherwise be used silently.
    """
    if not required:
        raise InputError("required lists", "no required list given: refusing to pass by default")
    reasons: list[str] = []
    for name in required:
        if name not in active:
            reasons.append(f"required list {name} is not loaded: run 'kinko lists load FILE'")
    for name, version in sorted(active.items()):
        age = now - version.as_of
        limit = config.max_age(name)
        if age > limit:
            reasons.append(
                f"list {name} is {age.days} days old (from {version.as_of.date().isoformat()}); "
                f"the maximum is {limit.days} days: load a newer version"
            )
    return tuple(reasons)


class Change(enum.StrEnum):
    """Why a new version may not simply replace the active one (each needs four eyes)."""

    FORMAT = "format"
    PUBLISHER = "publisher"
    SHRANK = "shrank"


@dataclass(frozen=True, slots=True)
class Review:
    """What a new version changes about its list's identity or size, and in words."""

    changes: tuple[Change, ...]
    reasons: tuple[str, ...]

    @property
    def needs_four_eyes(self) -> bool:
        return bool(self.changes)

    def refusal(self, name: ListName) -> Conflict:
        """The error for a load nobody may propose (a local operator's CLI): nothing changes."""
        code = "list_identity_changed" if set(self.changes) - {Change.SHRANK} else "list_shrank"
        return Conflict(
            f"{name}: {'; '.join(self.reasons)}. The previous version stays active. "
            "Changing a list's format or publisher, or shrinking it beyond the guard, needs "
            "two security admins: a security_admin proposes the file (POST "
            "/v1/screening/lists, signed in) and a second one approves the proposal "
            "(POST /v1/roles/proposals/ID/approve, or 'kinko role approve ID').",
            code=code,
        )


def review_replacement(
    previous: ListVersion | None, new: ParsedList, config: ScreeningConfig
) -> Review:
    """Compare `new` with the active version (its pinned format and publisher, its size).

    A first load pins the list's identity, except that the reserved names (``ofac-sdn``,
    ``un-consolidated``) are pinned to their publishers from the start. An empty first
    load is refused outright (`Conflict`).
    """
    changes: list[Change] = []
    reasons: list[str] = []
    if previous is None:
        if new.size == 0:
            raise Conflict(f"{new.name}: the file holds no entries; refusing an empty list")
        expected = RESERVED_PUBLISHERS.get(new.name)
        if expected is not None and new.publisher != expected:
            changes.append(Change.PUBLISHER)
            reasons.append(
                f"{new.name} is published by {expected}, but this file is a "
                f"{new.format.value} list published by {new.publisher}"
            )
        return Review(tuple(changes), tuple(reasons))
    if new.format != previous.format:
        changes.append(Change.FORMAT)
        reasons.append(
            f"the file is {new.format.value}, the active version {previous.id} is "
            f"{previous.format.value}"
        )
    if new.publisher != previous.publisher:
        changes.append(Change.PUBLISHER)
        reasons.append(
            f"the file is published by {new.publisher}, the list by {previous.publisher}"
        )
    before = previous.entity_count + previous.address_count
    dropped = max(0, before - new.size) / before if before else 0.0
    if dropped > config.max_drop_share:
        changes.append(Change.SHRANK)
        reasons.append(
            f"the new file has {new.size} entries against {before} in the active version "
            f"{previous.id} ({dropped:.0%} fewer; the limit is {config.max_drop_share:.0%}): "
            "it may be truncated or wrong"
        )
    return Review(tuple(changes), tuple(reasons))


def check_replacement(
    previous: ListVersion | None, new: ParsedList, config: ScreeningConfig
) -> None:
    """Raise `Conflict` unless `new` may replace `previous` without a second person."""
    review = review_replacement(previous, new, config)
    if review.needs_four_eyes:
        raise review.refusal(new.name)
