"""The event schema and its parsers: all-or-nothing, errors name the line and field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import MappingProxyType

import pytest

from kinko.core.errors import InputError
from kinko.core.events import SecurityEvent
from kinko.monitor.events import from_security_event, parse_batch, parse_jsonl

GOOD = {"time": "2026-11-21T09:00:00Z", "type": "auth.login", "actor": "u1", "outcome": "success"}


def line(**change: object) -> str:
    return json.dumps({**GOOD, **change})


def test_jsonl_parses_and_flattens() -> None:
    events = parse_jsonl(
        [
            line(source_ip="2001:DB8::1", geo={"country": "JP", "lat": 35.6, "lon": 139.7}),
            "",
            line(type="chain.outflow", amount=10**30, fields={"wallet_tier": "hot"}),
        ]
    )
    assert len(events) == 2
    flat = events[0].flat()
    assert flat["source_ip"] == "2001:db8::1"
    assert flat["geo.country"] == "JP" and flat["time.hour"] == 9
    assert events[1].flat()["amount"] == 10**30
    assert events[1].flat()["wallet_tier"] == "hot"


@pytest.mark.parametrize(
    ("bad", "where", "why"),
    [
        ("{not json", "line 2", "not valid JSON"),
        ("[1, 2]", "line 2", "JSON object"),
        (line(amount=1.5), "line 2: amount", "integer"),
        (line(amount=-1), "line 2: amount", "greater than or equal"),
        (line(amount="10"), "line 2: amount", "integer"),
        (line(time="2026-11-21T09:00:00"), "line 2: time", "timezone"),
        (line(type="Auth Login"), "line 2: type", "dotted"),
        (line(source_ip="999.1.1.1"), "line 2: source_ip", "IPv4 or IPv6"),
        (line(colour="red"), "line 2: colour", "Extra inputs"),
        (line(fields={"wallet": "x"}), "line 2: fields", "shadow"),
        (line(fields={"ratio": 0.5}), "line 2: fields", "floats"),
        (line(geo={"country": "Japan"}), "line 2: geo.country", "pattern"),
    ],
)
def test_bad_line_refused_with_line_number(bad: str, where: str, why: str) -> None:
    with pytest.raises(InputError) as info:
        parse_jsonl([line(), bad, line()])
    assert info.value.field == where
    assert why in info.value.message


def test_batch_names_index_and_is_all_or_nothing() -> None:
    with pytest.raises(InputError) as info:
        parse_batch([GOOD, GOOD, {**GOOD, "amount": True}])
    assert info.value.field.startswith("events[2]")
    assert len(parse_batch([GOOD, GOOD])) == 2


def test_bus_event_maps_onto_schema() -> None:
    event = SecurityEvent(
        type="chain.outflow",
        time=datetime(2026, 11, 21, 9, tzinfo=UTC),
        wallet="w1",
        asset="ETH",
        amount=5,
        fields=MappingProxyType(
            {"wallet_tier": "hot", "device_id": "d1", "geo": {"country": "JP"}}
        ),
    )
    mapped = from_security_event(event).flat()
    assert mapped["wallet"] == "w1" and mapped["amount"] == 5
    assert mapped["wallet_tier"] == "hot" and mapped["device_id"] == "d1"
    assert mapped["geo.country"] == "JP"
