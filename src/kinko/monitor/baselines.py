"""Detections Sigma cannot express: learned baselines and impossible travel.

State is per wallet or per user and capped (`MAX_KEYS`, least recently seen evicted),
so memory stays bounded however many keys the event stream names. The statistics are
floats; they describe amounts and never become one.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from kinko.monitor.alert import Alert, AlertKind
from kinko.monitor.geo import GeoDatabase, GeoPoint, haversine_km
from kinko.monitor.response_spec import ResponseAction, ResponseSpec, Scope

MAX_KEYS = 100_000

Event = Mapping[str, Any]


class Baseline(Protocol):
    rule_id: str
    title: str
    response: ResponseSpec
    types: frozenset[str]  # event types it looks at (the engine indexes on them)

    def observe(self, event: Event) -> list[Alert]: ...


class _Lru(OrderedDict[Any, Any]):
    def touch(self, key: Any, default: Any) -> Any:
        value = self.get(key)
        if value is None:
            value = default()
            self[key] = value
            if len(self) > MAX_KEYS:
                self.popitem(last=False)
        else:
            self.move_to_end(key)
        return value


def _alert(b: Baseline, event: Event, level: str, reason: str, **group: Any) -> Alert:
    time: datetime = event["time"]
    return Alert(
        rule_id=b.rule_id,
        title=b.title,
        level=level,
        kind=AlertKind.BASELINE,
        time=time,
        response=b.response,
        evidence=dict(event),
        group=group,
        reason=reason,
    )


@dataclass
class _Ewma:
    n: int = 0
    mean: float = 0.0
    var: float = 0.0


@dataclass
class OutflowEwma:
    """Per wallet and asset: alert when an outflow exceeds mean + k·σ of the EWMA baseline.

    Exponentially weighted mean and variance (West 1979 / Finch 2009 incremental form);
    silent until `warmup` outflows have been seen. The limit is at least `min_ratio` × the
    mean, so a wallet with perfectly regular outflows (σ = 0) does not alert on noise.
    An outflow that alerts does not update the baseline, so an attacker cannot teach it
    their own transfers.
    """

    k: float = 4.0
    min_ratio: float = 2.0
    alpha: float = 0.1
    warmup: int = 20
    types: frozenset[str] = frozenset({"chain.outflow"})
    rule_id: str = "kinko-baseline-outflow-ewma"
    title: str = "Outflow far above this wallet's baseline"
    response: ResponseSpec = field(
        default_factory=lambda: ResponseSpec(ResponseAction.FREEZE, Scope.WALLET, Scope.WALLET)
    )
    _state: _Lru = field(default_factory=_Lru)

    def observe(self, event: Event) -> list[Alert]:
        if event["type"] != "chain.outflow":
            return []
        amount = event.get("amount")
        wallet = event.get("wallet")
        if not isinstance(amount, int) or wallet is None:
            return []
        state: _Ewma = self._state.touch((wallet, event.get("asset")), _Ewma)
        if state.n >= self.warmup:
            limit = max(state.mean + self.k * math.sqrt(state.var), self.min_ratio * state.mean)
            if amount > limit:
                reason = f"amount {amount} above baseline {state.mean:.0f} (limit {limit:.0f})"
                return [
                    _alert(self, event, "high", reason, wallet=wallet, asset=event.get("asset"))
                ]
        diff = amount - state.mean
        incr = self.alpha * diff
        state.mean = state.mean + incr if state.n else float(amount)
        state.var = (1 - self.alpha) * (state.var + diff * incr) if state.n else 0.0
        state.n += 1
        return []


@dataclass
class _Habits:
    logins: int = 0
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    countries: set[str] = field(default_factory=set)


@dataclass
class UsualAccess:
    """Per user: a successful login at an hour (±1 h, UTC) or from a country never seen."""

    warmup: int = 20
    types: frozenset[str] = frozenset({"auth.login"})
    rule_id: str = "kinko-baseline-usual-access"
    title: str = "Staff login outside usual hours or countries"
    response: ResponseSpec = field(default_factory=lambda: ResponseSpec(ResponseAction.STEP_UP_MFA))
    _state: _Lru = field(default_factory=_Lru)

    def observe(self, event: Event) -> list[Alert]:
        if event["type"] != "auth.login" or event.get("outcome") != "success":
            return []
        actor = event.get("actor")
        if actor is None:
            return []
        habits: _Habits = self._state.touch(actor, _Habits)
        hour: int = event["time.hour"]
        country = event.get("geo.country")
        alerts: list[Alert] = []
        if habits.logins >= self.warmup:
            near = sum(habits.hours[(hour + d) % 24] for d in (-1, 0, 1))
            if near == 0:
                reason = f"{actor} has never logged in near {hour:02d}:00 UTC"
                alerts.append(_alert(self, event, "medium", reason, actor=actor))
            if country is not None and country not in habits.countries:
                reason = f"{actor} has never logged in from {country}"
                alerts.append(_alert(self, event, "medium", reason, actor=actor))
        habits.logins += 1
        habits.hours[hour] += 1
        if country is not None and len(habits.countries) < 64:
            habits.countries.add(country)
        return alerts


@dataclass
class ImpossibleTravel:
    """Two successful logins by one user farther apart than `max_kmh` allows.

    Position comes from the event's geo.lat/geo.lon, else from the operator's offline
    database by source IP; a login without either is skipped (nothing to compare).
    """

    geo: GeoDatabase | None = None
    max_kmh: float = 900.0
    types: frozenset[str] = frozenset({"auth.login"})
    rule_id: str = "kinko-baseline-impossible-travel"
    title: str = "Impossible travel between logins"
    response: ResponseSpec = field(
        default_factory=lambda: ResponseSpec(ResponseAction.LOCK_ACCOUNT)
    )
    _state: _Lru = field(default_factory=_Lru)

    def _where(self, event: Event) -> GeoPoint | None:
        lat, lon = event.get("geo.lat"), event.get("geo.lon")
        if lat is not None and lon is not None:
            return GeoPoint(event.get("geo.country"), float(lat), float(lon))
        ip = event.get("source_ip")
        if self.geo is not None and isinstance(ip, str):
            return self.geo.lookup(ip)
        return None

    def observe(self, event: Event) -> list[Alert]:
        if event["type"] != "auth.login" or event.get("outcome") != "success":
            return []
        actor = event.get("actor")
        point = self._where(event)
        if actor is None or point is None:
            return []
        ts = event["time"].timestamp()
        previous = self._state.get(actor)
        self._state.touch(actor, lambda: (ts, point))
        self._state[actor] = (ts, point)
        if previous is None:
            return []
        before_ts, before = previous
        km = haversine_km(before, point)
        hours = abs(ts - before_ts) / 3600
        if km < 1 or (hours > 0 and km / hours <= self.max_kmh):
            return []
        speed = "instantly" if hours == 0 else f"at {km / hours:.0f} km/h"
        reason = f"{actor} moved {km:.0f} km {speed} (limit {self.max_kmh:.0f} km/h)"
        return [_alert(self, event, "high", reason, actor=actor)]


def default_baselines(geo: GeoDatabase | None = None) -> list[Baseline]:
    return [OutflowEwma(), UsualAccess(), ImpossibleTravel(geo=geo)]
