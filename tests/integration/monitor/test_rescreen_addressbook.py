"""Loading a new list re-screens the address book: a hit becomes a screening alert and a
monitor alert, through the real address-book, screening and monitor services."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from kinko.context import Context
from kinko.custody.model import Tier
from kinko.policy.model import OwnerKind
from kinko.screening.providers import address_book_targets
from kinko.services import Services
from kinko.store.tables.monitor import AlertRow
from tests.support.addressbook import add_entry as book_entry
from tests.support.services import services_of

LISTS = Path(__file__).parents[2] / "fixtures" / "screening" / "kinko_lists_synthetic.csv"
BYBIT = "0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2"  # on the synthetic stolen-funds list
CLEAN = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def add_entry(ctx: Context, address: str, label: str) -> str:
    entry = book_entry(ctx, address, label=label, owner_kind=OwnerKind.PARTNER, tiers=[Tier.COLD])
    return str(entry.id)


def test_new_list_alerts_on_an_address_book_hit(ctx: Context, services: Services) -> None:
    assert address_book_targets in services.screening.rescreen_from
    hit = add_entry(ctx, BYBIT, "OTC desk")  # still cooling off: screened all the same
    add_entry(ctx, CLEAN, "partner exchange")
    services.start_monitor()

    result = services.screening.load_file(LISTS, actor="user:sec")

    by_target = [(a.target_kind, a.target_ref, a.list_name) for a in result.alerts]
    assert ("address_book", hit, "stolen-funds") in by_target
    assert all(ref == hit for kind, ref, _ in by_target if kind == "address_book")
    with ctx.db.transaction() as s:
        rows = s.execute(select(AlertRow).where(AlertRow.rule_id == "kinko-sanctions-hit"))
        evidence = [row.evidence for row in rows.scalars()]
    assert [
        (e["destination"], e["target_ref"])
        for e in evidence
        if e.get("target_kind") == "address_book"
    ] == [(BYBIT, hit)]


def test_removed_entries_are_not_rescreened(ctx: Context) -> None:
    add_entry(ctx, BYBIT, "OTC desk")
    with ctx.db.transaction() as s:
        services_of(ctx).address_book.remove(
            s, chain="ethereum", address=BYBIT, actor="user:ann", reason="desk closed"
        )
    with ctx.db.transaction() as s:
        assert list(address_book_targets(s)) == []
