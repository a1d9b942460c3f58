"""Loading a new list version re-screens the targets the service was given and alerts once
per new hit."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.core.events import SecurityEvent
from kinko.screening.rescreen import RescreenTarget
from kinko.screening.service import ScreeningService
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.screening import ScreeningAlertRow

FIXTURES = Path(__file__).parents[2] / "fixtures" / "screening"
BYBIT = "0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2"


def pending(session: Session) -> Iterable[RescreenTarget]:
    return [
        RescreenTarget.for_address("withdrawal", "wd_1", chain="ethereum", address=BYBIT),
        RescreenTarget.for_address(
            "address_book", "ab_7", chain="ethereum", address="0x" + "11" * 20
        ),
        RescreenTarget.for_name("customer", "cu_9", name="Rim Jong-hyuk"),
        RescreenTarget.for_address("withdrawal", "wd_bad", chain="ethereum", address="0x12"),
    ]


def test_new_version_alerts_on_new_hits_once(ctx: Context) -> None:
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    service = ScreeningService(ctx, rescreen_from=[pending])
    result = service.load_file(FIXTURES / "kinko_lists_synthetic.csv", actor="alice")
    found = sorted((a.target_ref, a.list_name) for a in result.alerts)
    assert found == [("cu_9", "kr-mofa"), ("wd_1", "stolen-funds")]
    hits = [e for e in events if e.type == "screening.hit"]
    assert len(hits) == 2 and {e.severity for e in hits} == {"high"}
    assert any(e.destination == BYBIT for e in hits)
    with ctx.db.transaction() as s:
        actions = list(s.scalars(select(AuditEntryRow.action)))
        assert actions.count("screening.alert_raised") == 2
        assert len(list(s.scalars(select(ScreeningAlertRow)))) == 2
    # The same hits under a later version of the lists are not alerted again.
    changed = FIXTURES.parent / "screening" / "kinko_lists_synthetic.csv"
    text = changed.read_text(encoding="utf-8") + (
        "stolen-funds,Another theft,tron,TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre,case,2026-01-01\n"
    )
    copy = Path(ctx.settings.data_dir) / "lists.csv"
    copy.write_text(text, encoding="utf-8")
    again = service.load_file(copy, actor="alice")
    assert again.alerts == ()


def test_target_must_be_address_or_name() -> None:
    from kinko.core.errors import InputError

    with pytest.raises(InputError):
        RescreenTarget(kind="withdrawal", ref="wd_1")
    with pytest.raises(InputError):
        RescreenTarget(kind="x", ref="y", chain="ethereum", address="0x", name="n")


def test_failing_provider_keeps_list_and_says_what_to_do(ctx: Context) -> None:
    from kinko.core.errors import Unavailable

    def broken(session: Session) -> Iterable[RescreenTarget]:
        raise RuntimeError("address book table missing")

    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    service = ScreeningService(ctx, rescreen_from=[broken])
    with pytest.raises(Unavailable, match="kinko lists rescreen"):
        service.load_file(FIXTURES / "kinko_lists_synthetic.csv", actor="alice")
    with ctx.db.transaction() as s:
        assert {v.list_name for v in service.versions(s)} == {
            "exchange-own",
            "kr-mofa",
            "stolen-funds",
        }
    assert [e.type for e in events] == ["screening.list_loaded"] * 3 + ["screening.rescreen_failed"]
    assert ScreeningService(ctx).rescreen_all(actor="alice") == ()  # nothing to re-screen


def test_a_service_rescreens_only_what_it_was_given(ctx: Context) -> None:
    """No provider is registered by importing a module (the API's routes, the monitor's
    factory): a screening service re-screens what its builder handed it, and the
    composition root hands it pending withdrawals and the address book."""
    import kinko.monitor.factory
    import kinko.server  # noqa: F401 - importing them used to register providers
    from kinko.screening.providers import address_book_targets
    from kinko.services import build_services
    from kinko.withdrawals.rescreen import pending_destinations

    assert ScreeningService(ctx).rescreen_from == ()
    root = build_services(ctx).screening
    assert root.rescreen_from == (pending_destinations, address_book_targets)
