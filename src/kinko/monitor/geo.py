"""Offline IP geolocation from a database the operator supplies (no network look-ups).

Two formats: a MaxMind-format ``.mmdb`` (GeoLite2/GeoIP2 City layout: ``country.iso_code``,
``location.latitude``/``longitude``), or a CSV with a header
``network,country,latitude,longitude`` (one CIDR per row). A file that is missing, empty
or malformed is refused at load time with the line that is wrong.
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kinko.core.errors import InputError
from kinko.core.textfile import csv_rows, read_text

EARTH_RADIUS_KM = 6371.0088
CSV_HEADER = ["network", "country", "latitude", "longitude"]


@dataclass(frozen=True, slots=True)
class GeoPoint:
    country: str | None
    lat: float
    lon: float


class GeoDatabase(Protocol):
    def lookup(self, ip: str) -> GeoPoint | None: ...


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance on a spherical Earth (mean radius, IUGG)."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class CsvGeo:
    """CIDR ranges from a CSV; look-up by binary search over non-overlapping ranges."""

    def __init__(self, path: Path) -> None:
        rows: list[tuple[int, int, int, GeoPoint]] = []
        text = read_text(path, field=str(path), name="the file")
        reader = csv_rows(text, field=str(path), name="the file")
        header = next(reader, None)
        if header != CSV_HEADER:
            raise InputError(str(path), f"line 1 must be the header {','.join(CSV_HEADER)}")
        for number, row in enumerate(reader, start=2):
            rows.append(_csv_row(path, number, row))
        if not rows:
            raise InputError(str(path), "holds no ranges")
        rows.sort(key=lambda r: (r[0], r[1]))
        for before, after in itertools.pairwise(rows):
            if before[0] == after[0] and after[1] <= before[2]:
                raise InputError(str(path), "ranges overlap; list each address once")
        self._rows = rows
        self._keys = [(r[0], r[1]) for r in rows]

    def lookup(self, ip: str) -> GeoPoint | None:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        index = bisect.bisect_right(self._keys, (address.version, int(address))) - 1
        if index < 0:
            return None
        version, _start, end, point = self._rows[index]
        if version == address.version and int(address) <= end:
            return point
        return None


def _csv_row(path: Path, number: int, row: list[str]) -> tuple[int, int, int, GeoPoint]:
    where = f"{path}: line {number}"
    if len(row) != 4:
        raise InputError(where, "needs 4 columns: network,country,latitude,longitude")
    try:
        network = ipaddress.ip_network(row[0].strip())
        lat, lon = float(row[2]), float(row[3])
    except ValueError as exc:
        raise InputError(where, f"{exc}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(where, "latitude/longitude out of range")
    country = row[1].strip().upper() or None
    start, end = int(network.network_address), int(network.broadcast_address)
    return network.version, start, end, GeoPoint(country, lat, lon)


class MmdbGeo:
    """A MaxMind-format database read with `maxminddb` (City layout)."""

    def __init__(self, path: Path) -> None:
        import maxminddb

        try:
            self._reader: Any = maxminddb.open_database(str(path))
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
            raise InputError(str(path), f"is not a readable .mmdb database: {exc}") from None
        self._invalid: type[Exception] = maxminddb.InvalidDatabaseError

    def lookup(self, ip: str) -> GeoPoint | None:
        try:
            record = self._reader.get(ip)
        except (ValueError, self._invalid):
            return None
        if not isinstance(record, dict):
            return None
        location = record.get("location") or {}
        lat, lon = location.get("latitude"), location.get("longitude")
        if lat is None or lon is None:
            return None
        country = (record.get("country") or {}).get("iso_code")
        return GeoPoint(country, float(lat), float(lon))

    def close(self) -> None:
        self._reader.close()


def open_geo(path: Path) -> GeoDatabase:
    if not path.exists():
        raise InputError(str(path), "does not exist; supply a .mmdb or a CSV of ranges")
    return MmdbGeo(path) if path.suffix == ".mmdb" else CsvGeo(path)
