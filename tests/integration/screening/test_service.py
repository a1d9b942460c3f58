"""The screening service on both databases: loading, provenance, verdicts, fail closed."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.errors import Conflict, InputError
from kinko.core.events import SecurityEvent
from kinko.screening.cases import Asker
from kinko.screening.freshness import ScreeningConfig
from kinko.screening.model import ListFormat, VerdictStatus
from kinko.screening.service import ScreeningService
from kinko.services import Services
from kinko.store.tables.audit import AuditEntryRow
from kinko.store.tables.screening import ScreeningAddressRow, ScreeningListVersionRow

FIXTURES = Path(__file__).parents[2] / "fixtures" / "screening"
ADVANCED = FIXTURES / "sdn_advanced_excerpt.xml"
UN = FIXTURES / "un_consolidated_synthetic.xml"
RONIN_EXPLOITER = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
ASKER = Asker("local:test")


@pytest.fixture
def loaded(ctx: Context, services: Services, clock: FixedClock) -> ScreeningService:
    """OFAC (published 2024-05-28) and UN lists loaded, the clock a day after OFAC's date."""
    clock.set(clock.now().replace(year=2024, month=5, day=29))
    service = services.screening
    service.load_file(ADVANCED, actor="alice")
    service.load_file(UN, actor="alice")
    return service


def _actions(ctx: Context) -> list[str]:
    with ctx.db.transaction() as s:
        return list(s.scalars(select(AuditEntryRow.action).order_by(AuditEntryRow.seq)))


def test_load_records_provenance_and_audit(ctx: Context, loaded: ScreeningService) -> None:
    with ctx.db.transaction() as s:
        [ofac] = [v for v in loaded.versions(s) if v.list_name == "ofac-sdn"]
    assert ofac.format is ListFormat.OFAC_ADVANCED
    assert ofac.published is not None and ofac.published.date().isoformat() == "2024-05-28"
    assert len(ofac.sha256) == 64
    assert ofac.counts_by_chain["ethereum"] == 7
    assert ofac.counts_by_chain["tron"] == 1
    assert ofac.unknown_tickers == ("XMR",)
    assert ofac.invalid_addresses == ("XBT 1NaRX1GZgtZ7E8iXo8YUdTtnb8rAK5QFJb",)
    assert _actions(ctx).count("screening.list_loaded") == 2


def test_hit_names_list_entity_program_and_source(ctx: Context, loaded: ScreeningService) -> None:
    with ctx.db.transaction() as s:
        verdict = loaded.screen_address(s, chain="ethereum", address=RONIN_EXPLOITER.lower())
    assert verdict.status is VerdictStatus.HIT
    [hit] = verdict.hits
    assert (hit.list_name, hit.entity_name, hit.programs, hit.entity_ref) == (
        "ofac-sdn",
        "LAZARUS GROUP",
        ("DPRK3",),
        "23254",
    )
    assert hit.listed_as == RONIN_EXPLOITER
    assert verdict.list_versions  # names the versions used


@pytest.mark.parametrize(
    ("chain", "address"),
    [
        ("arbitrum", "0x098b716b8aaf21512996dc57eb0615e2383e2f96"),  # same key on every EVM chain
        ("bitcoin", "BC1QRSKWDW9UNHLKT87LTCQQ2D5PN9S6W2F35GZ3Z6"),  # bech32 upper case
        ("tron", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre"),
        ("litecoin", "LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb"),
        ("bitcoin", "1KUUJPkyDhamZXgpsyXqNGc3x1QPXtdhgz"),  # listed as USDT (Omni)
    ],
)
def test_normalised_destinations_hit(
    ctx: Context, loaded: ScreeningService, chain: str, address: str
) -> None:
    with ctx.db.transaction() as s:
        assert loaded.screen_address(s, chain=chain, address=address).status is VerdictStatus.HIT


def test_clear_and_invalid(ctx: Context, loaded: ScreeningService) -> None:
    with ctx.db.transaction() as s:
        clear = loaded.screen_address(
            s, chain="ethereum", address="0x0000000000000000000000000000000000000001"
        )
        assert clear.status is VerdictStatus.CLEAR and clear.hits == ()
        with pytest.raises(InputError) as err:
            loaded.screen_address(
                s, chain="ethereum", address="0x098B716B8Aaf21512996dC57EB0615e2383E2F96"
            )
    assert err.value.field == "address" and "EIP-55" in err.value.message


def test_missing_required_list_is_stale(ctx: Context, services: Services) -> None:
    service = services.screening
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    with ctx.db.transaction() as s:
        verdict = service.screen_address(
            s, chain="ethereum", address="0x0000000000000000000000000000000000000001"
        )
    assert verdict.status is VerdictStatus.STALE
    assert "ofac-sdn is not loaded" in verdict.reasons[0]
    assert [e.type for e in events] == ["screening.stale"]


def test_list_past_max_age_is_stale_but_hit_still_denies(
    ctx: Context, loaded: ScreeningService, clock: FixedClock
) -> None:
    clock.advance(timedelta(days=8))
    with ctx.db.transaction() as s:
        stale = loaded.screen_address(
            s, chain="ethereum", address="0x0000000000000000000000000000000000000001"
        )
        hit = loaded.screen_address(s, chain="ethereum", address=RONIN_EXPLOITER)
    assert stale.status is VerdictStatus.STALE
    assert any("ofac-sdn is 9 days old" in r for r in stale.reasons)
    assert hit.status is VerdictStatus.HIT


def test_freshness_check_is_loud_only_when_a_list_is_stale(
    ctx: Context, services: Services, loaded: ScreeningService, clock: FixedClock
) -> None:
    """The periodic job `kinko serve` runs: silent while fresh, `screening.stale` after."""

    services.start_monitor()
    events: list[SecurityEvent] = []
    ctx.bus.subscribe(events.append)
    assert loaded.check_freshness() == ()
    assert events == []
    clock.advance(timedelta(days=8))
    reasons = loaded.check_freshness()
    assert any("ofac-sdn is 9 days old" in r for r in reasons)
    assert [e.type for e in events] == ["screening.stale"]
    with ctx.db.transaction() as s:
        alerts = services.triage.list_alerts(s)
    assert [a.rule_id for a in alerts] == ["kinko-screening-stale"]


def test_shrunk_list_is_refused_and_previous_stays_active(
    ctx: Context, loaded: ScreeningService, tmp_path: Path
) -> None:
    text = ADVANCED.read_text(encoding="utf-8")
    start = text.index('<DistinctParty FixedRef="32338">')
    end = text.index("</DistinctParty>", text.index('<DistinctParty FixedRef="47108">'))
    shrunk = tmp_path / "sdn_advanced.xml"
    shrunk.write_text(text[:start] + text[end + len("</DistinctParty>") :], encoding="utf-8")
    with pytest.raises(Conflict) as err:
        loaded.load_file(shrunk, actor="alice")
    assert err.value.code == "list_shrank" and "previous version stays active" in err.value.message
    with ctx.db.transaction() as s:
        assert (
            loaded.screen_address(
                s, chain="tron", address="TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre"
            ).status
            is VerdictStatus.HIT
        )
        versions = s.scalar(select(func.count()).select_from(ScreeningListVersionRow))
    assert versions == 2
    assert _actions(ctx)[-1] == "screening.list_refused"


def test_another_format_of_the_same_list_is_refused_without_a_second_person(
    ctx: Context, loaded: ScreeningService, tmp_path: Path
) -> None:
    """The smaller legacy sdn.xml over the advanced XML: format change and shrink."""
    legacy = tmp_path / "sdn.xml"
    shutil.copy(FIXTURES / "sdn_legacy_excerpt.xml", legacy)
    with pytest.raises(Conflict) as err:
        loaded.load_file(legacy, actor="alice")
    assert err.value.code == "list_identity_changed"
    assert "ofac-sdn-xml" in err.value.message and "fewer" in err.value.message
    with ctx.db.transaction() as s:
        verdict = loaded.screen_address(
            s, chain="tron", address="TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre"
        )
    assert verdict.status is VerdictStatus.HIT  # still on the active version


def test_truncated_file_refused_nothing_stored(ctx: Context, loaded: ScreeningService) -> None:
    with pytest.raises(InputError) as err:
        loaded.load_file(FIXTURES / "truncated_advanced.xml", actor="alice")
    assert err.value.code == "list_unparseable"
    with ctx.db.transaction() as s:
        count = s.scalar(select(func.count()).select_from(ScreeningAddressRow))
    assert count == 16  # only the first version's addresses


def test_same_file_twice_is_unchanged(ctx: Context, loaded: ScreeningService) -> None:
    result = loaded.load_file(ADVANCED, actor="alice")
    assert result.versions == () and result.unchanged == ("ofac-sdn",)


def test_kinko_csv_creates_one_version_per_list(ctx: Context, loaded: ScreeningService) -> None:
    result = loaded.load_file(FIXTURES / "kinko_lists_synthetic.csv", actor="alice")
    assert sorted(v.list_name for v in result.versions) == [
        "exchange-own",
        "kr-mofa",
        "stolen-funds",
    ]
    with ctx.db.transaction() as s:
        verdict = loaded.screen_address(
            s, chain="ethereum", address="0x47666fab8bd0ac7003bce3f5c3585383f09486e2"
        )
    assert [h.entity_name for h in verdict.hits] == ["Bybit exploiter (2025-02-21)"]


def test_name_screening_explains_and_uses_dob(ctx: Context, loaded: ScreeningService) -> None:
    with ctx.db.transaction() as s:
        verdict = loaded.screen_name(
            s, "Jin-Hyok Park", dob="1984-08-15", nationality="DPRK", asker=ASKER
        )
        control = loaded.screen_name(s, "Maria Gonzalez", asker=ASKER)
        wrong_dob = loaded.screen_name(s, "Jin-Hyok Park", dob="1999-01-01", asker=ASKER)
    assert verdict.status is VerdictStatus.HIT
    top = verdict.hits[0]
    assert top.entity_ref == "24389" and top.list_name == "ofac-sdn"
    assert "date of birth 1984-08-15 matches" in top.explanation
    assert control.status is VerdictStatus.CLEAR
    assert wrong_dob.status is VerdictStatus.CLEAR  # born 1999: the score drops below review


def test_config_refuses_nonsense() -> None:
    with pytest.raises(InputError):
        ScreeningConfig(max_drop_share=1.5)
    with pytest.raises(InputError):
        ScreeningConfig(required_address_lists=(), required_name_lists=())


def test_database_allows_one_active_version_per_list(
    ctx: Context, loaded: ScreeningService
) -> None:
    import sqlalchemy.exc

    with ctx.db.transaction() as s:
        row = s.scalars(
            select(ScreeningListVersionRow).where(ScreeningListVersionRow.active.is_(True))
        ).first()
        assert row is not None
        duplicate = {c.name: getattr(row, c.key) for c in ScreeningListVersionRow.__table__.columns}
    duplicate["id"] = "lv_duplicate"
    with pytest.raises(sqlalchemy.exc.IntegrityError), ctx.db.transaction() as s:
        s.add(ScreeningListVersionRow(**duplicate))
