"""Baselines: outflow EWMA, usual hours/countries, impossible travel with offline geo."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinko.core.errors import InputError
from kinko.monitor.baselines import ImpossibleTravel, OutflowEwma, UsualAccess
from kinko.monitor.geo import CsvGeo, GeoPoint, haversine_km, open_geo
from tests.unit.monitor.mmdb_writer import write_mmdb
from tests.unit.monitor.support import ev

TOKYO = {"country": {"iso_code": "JP"}, "location": {"latitude": 35.6762, "longitude": 139.6503}}
LONDON = {"country": {"iso_code": "GB"}, "location": {"latitude": 51.5074, "longitude": -0.1278}}


def outflow(at: float, amount: int, wallet: str = "w1") -> dict:
    return ev("chain.outflow", at, wallet=wallet, asset="ETH", amount=amount).flat()


def test_ewma_alerts_on_k_sigma_after_warmup() -> None:
    base = OutflowEwma(k=4.0, warmup=20)
    amounts = [100 + (i % 5) * 10 for i in range(40)]
    assert [a for i, x in enumerate(amounts) for a in base.observe(outflow(i, x))] == []
    alerts = base.observe(outflow(100, 1_000))
    assert [a.rule_id for a in alerts] == ["kinko-baseline-outflow-ewma"]
    assert alerts[0].group == {"wallet": "w1", "asset": "ETH"}
    # another wallet has its own (empty) baseline: silent during warm-up
    assert base.observe(outflow(101, 10**9, wallet="w2")) == []


def test_ewma_near_miss_and_no_poisoning() -> None:
    base = OutflowEwma(k=4.0, warmup=20)
    for i in range(40):
        base.observe(outflow(i, 100 + (i % 5) * 10))
    assert base.observe(outflow(50, 150)) == []  # within the usual spread
    for i in range(5):  # repeated large outflows keep alerting: they never join the baseline
        assert len(base.observe(outflow(60 + i, 1_000))) == 1


def test_ewma_silent_during_warmup() -> None:
    base = OutflowEwma(warmup=20)
    assert all(base.observe(outflow(i, 10 ** (i % 6))) == [] for i in range(20))


def login(at: float, actor: str = "u1", **kw: object) -> dict:
    return ev("auth.login", at, actor=actor, outcome="success", **kw).flat()


def test_usual_hours_and_countries() -> None:
    base = UsualAccess(warmup=10)
    day = 86_400
    for i in range(10):  # 09:00 UTC from Japan every day
        assert base.observe(login(i * day, geo={"country": "JP"})) == []
    assert base.observe(login(10 * day + 1800, geo={"country": "JP"})) == []  # 09:30: fine
    night = base.observe(login(11 * day + 15 * 3600, geo={"country": "JP"}))  # 00:00 UTC
    assert [a.reason for a in night] == ["u1 has never logged in near 00:00 UTC"]
    abroad = base.observe(login(12 * day, geo={"country": "KP"}))
    assert [a.reason for a in abroad] == ["u1 has never logged in from KP"]


def test_impossible_travel_from_event_geo() -> None:
    base = ImpossibleTravel()
    tokyo = {"country": "JP", "lat": 35.6762, "lon": 139.6503}
    london = {"country": "GB", "lat": 51.5074, "lon": -0.1278}
    assert base.observe(login(0, geo=tokyo)) == []
    alerts = base.observe(login(3600, geo=london))  # ~9,560 km in an hour
    assert len(alerts) == 1 and "km/h" in alerts[0].reason
    # 13 hours later: ~735 km/h, a long-haul flight, not impossible
    assert base.observe(login(3600 + 13 * 3600, geo=tokyo)) == []


def test_impossible_travel_with_mmdb(tmp_path: Path) -> None:
    path = tmp_path / "geo.mmdb"
    write_mmdb(path, {"198.51.100.0/24": TOKYO, "203.0.113.0/24": LONDON})
    base = ImpossibleTravel(geo=open_geo(path))
    assert base.observe(login(0, source_ip="198.51.100.7")) == []
    assert len(base.observe(login(1800, source_ip="203.0.113.9"))) == 1
    assert base.observe(login(2000, source_ip="192.0.2.1")) == []  # unknown: skipped


def test_impossible_travel_with_csv(tmp_path: Path) -> None:
    path = tmp_path / "geo.csv"
    path.write_text(
        "network,country,latitude,longitude\n"
        "198.51.100.0/24,JP,35.6762,139.6503\n"
        "203.0.113.0/24,GB,51.5074,-0.1278\n"
        "2001:db8::/32,US,40.7128,-74.0060\n"
    )
    geo = CsvGeo(path)
    assert geo.lookup("203.0.113.255") == GeoPoint("GB", 51.5074, -0.1278)
    assert geo.lookup("203.0.114.0") is None
    assert geo.lookup("2001:db8::5") is not None
    base = ImpossibleTravel(geo=geo)
    base.observe(login(0, source_ip="198.51.100.7"))
    assert len(base.observe(login(600, source_ip="2001:db8::1"))) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("net,cc,lat,lon\n", "header"),
        ("network,country,latitude,longitude\n", "no ranges"),
        ("network,country,latitude,longitude\n10.0.0.0/33,JP,1,1\n", "line 2"),
        ("network,country,latitude,longitude\n10.0.0.0/8,JP,91,1\n", "out of range"),
        ("network,country,latitude,longitude\n10.0.0.0/8,JP,1,1\n10.1.0.0/16,JP,1,1\n", "overlap"),
    ],
)
def test_bad_geo_csv_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "geo.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        CsvGeo(path)


def test_missing_or_corrupt_geo_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        open_geo(tmp_path / "nope.mmdb")
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"not a database")
    with pytest.raises(InputError, match="not a readable"):
        open_geo(bad)


def test_haversine_known_distance() -> None:
    # Tokyo–London great-circle distance is about 9,560 km
    d = haversine_km(GeoPoint(None, 35.6762, 139.6503), GeoPoint(None, 51.5074, -0.1278))
    assert 9_500 < d < 9_620
