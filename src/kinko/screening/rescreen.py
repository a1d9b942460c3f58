"""The re-screening hook: other domains say what must be screened again on a new list.

Withdrawals provide the destinations of pending withdrawals
(`kinko.withdrawals.rescreen.pending_destinations`), policy the address book's entries
(`kinko.screening.providers.address_book_targets`); the composition root
(`kinko.services`) hands them to the screening service at construction::

    ScreeningService(ctx, rescreen_from=[lambda session: [RescreenTarget.for_address(
        "withdrawal", wd.id, chain=wd.chain, address=wd.destination) for wd in ...]])

Providers are plain callables taking the open session; they must only read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kinko.core.errors import InputError


@dataclass(frozen=True, slots=True)
class RescreenTarget:
    """Something to screen again: an address on a chain, or a person's name."""

    kind: str
    """What it is, e.g. ``withdrawal``, ``address_book``, ``customer``, ``staff``."""
    ref: str
    chain: str | None = None
    address: str | None = None
    name: str | None = None
    dob: str | None = None
    nationality: str | None = None

    def __post_init__(self) -> None:
        if not self.kind or not self.ref:
            raise InputError("target", "a re-screen target needs a kind and a ref")
        has_address = self.chain is not None and self.address is not None
        if has_address == (self.name is not None):
            raise InputError("target", "give either chain and address, or a name")

    @classmethod
    def for_address(cls, kind: str, ref: str, *, chain: str, address: str) -> RescreenTarget:
        return cls(kind=kind, ref=ref, chain=chain, address=address)

    @classmethod
    def for_name(
        cls,
        kind: str,
        ref: str,
        *,
        name: str,
        dob: str | None = None,
        nationality: str | None = None,
    ) -> RescreenTarget:
        return cls(kind=kind, ref=ref, name=name, dob=dob, nationality=nationality)


RescreenProvider = Callable[[Session], Iterable[RescreenTarget]]
