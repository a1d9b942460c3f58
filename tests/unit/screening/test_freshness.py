"""Staleness and the shrink check: pure functions of versions, config and `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kinko.core.errors import Conflict, InputError
from kinko.screening.freshness import ScreeningConfig, check_replacement, staleness_reasons
from kinko.screening.model import (
    ListedAddress,
    ListedEntity,
    ListFormat,
    ListName,
    ListVersion,
    ParsedList,
    VersionId,
)

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
OFAC = ListName("ofac-sdn")


def _version(name: str, *, age_days: int, entities: int = 90, addresses: int = 10) -> ListVersion:
    return ListVersion(
        id=VersionId(f"lv_{name}"),
        list_name=ListName(name),
        format=ListFormat.OFAC_ADVANCED,
        source="f",
        published=NOW - timedelta(days=age_days),
        sha256="0" * 64,
        loaded_at=NOW,
        entity_count=entities,
        address_count=addresses,
    )


def _parsed(entities: int) -> ParsedList:
    return ParsedList(
        name=OFAC,
        format=ListFormat.OFAC_ADVANCED,
        published=NOW,
        entities=tuple(ListedEntity(ref=str(i), name=f"N{i}") for i in range(entities)),
        addresses=(ListedAddress("ethereum", "evm:0x", "0x", "ETH", "1"),),
    )


def test_fresh_lists_give_no_reason() -> None:
    assert (
        staleness_reasons({OFAC: _version("ofac-sdn", age_days=7)}, [OFAC], ScreeningConfig(), NOW)
        == ()
    )


def test_missing_and_old_lists_are_reasons() -> None:
    config = ScreeningConfig()
    assert "not loaded" in staleness_reasons({}, [OFAC], config, NOW)[0]
    [reason] = staleness_reasons({OFAC: _version("ofac-sdn", age_days=8)}, [OFAC], config, NOW)
    assert "8 days old" in reason and "maximum is 7 days" in reason
    # an optional list past its (default 30-day) age also makes screening stale
    extra = {
        OFAC: _version("ofac-sdn", age_days=1),
        ListName("exchange-own"): _version("exchange-own", age_days=31),
    }
    assert "exchange-own" in staleness_reasons(extra, [OFAC], config, NOW)[0]


def test_no_required_list_refuses_instead_of_passing() -> None:
    with pytest.raises(InputError):
        staleness_reasons({OFAC: _version("ofac-sdn", age_days=1)}, [], ScreeningConfig(), NOW)


def test_shrink_limit() -> None:
    config = ScreeningConfig(max_drop_share=0.10)
    previous = _version("ofac-sdn", age_days=1, entities=90, addresses=10)  # 100 entries
    check_replacement(previous, _parsed(89), config)  # 90 entries: exactly 10% fewer
    with pytest.raises(Conflict, match="11% fewer") as err:
        check_replacement(previous, _parsed(88), config)
    assert err.value.code == "list_shrank"
    check_replacement(None, _parsed(1), config)
    with pytest.raises(Conflict, match="empty"):
        check_replacement(None, ParsedList(OFAC, ListFormat.OFAC_CSV, None, (), ()), config)
