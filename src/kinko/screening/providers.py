"""Re-screening providers for what other domains keep: address-book entries.

When a new sanctions or stolen-funds list is loaded, every address in the address book
(in force or still cooling off, so an entry never becomes usable unchecked) is screened
again; a hit becomes a screening alert and a ``screening.hit`` event for the monitor.
The provider only reads. The composition root (`kinko.services`) gives it to the
screening service of every process (``kinko serve`` and every ``kinko`` command).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.screening.rescreen import RescreenTarget
from kinko.store.tables.policy import AddressBookEntryRow


def address_book_targets(session: Session) -> Iterable[RescreenTarget]:
    """The newest live entry of each address: not removed and not superseded.

    A change supersedes an entry with one for the same chain and address, so the
    addresses screened are exactly those the address book lets withdrawals reach."""
    rows = session.execute(
        select(AddressBookEntryRow)
        .where(
            AddressBookEntryRow.removed_at.is_(None), AddressBookEntryRow.superseded_at.is_(None)
        )
        .order_by(AddressBookEntryRow.chain, AddressBookEntryRow.address, AddressBookEntryRow.id)
    ).scalars()
    return [
        RescreenTarget.for_address("address_book", row.id, chain=row.chain, address=row.address)
        for row in rows
    ]
