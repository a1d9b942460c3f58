"""The Sigma correlation specification's own examples (tests/vectors/sigma/)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from kinko.monitor.engine import Engine
from kinko.monitor.rules import load_paths
from tests.unit.monitor.support import T0

VECTORS = Path(__file__).parents[2] / "vectors" / "sigma" / "correlation_spec_examples.yml"
BRUTE_FORCE = "b180ead8-d58f-40b2-ae54-c8940995b9b6"


WINDOWS_SECURITY = {"logsource.product": "windows", "logsource.service": "security"}


def event(at: float, **fields: Any) -> dict[str, Any]:
    """A flat event of the logsource its rule names (Windows Security unless given)."""
    source = {k: fields.pop(k) for k in list(fields) if k.startswith("logsource.")}
    return {
        "type": "win.security",
        "time": T0 + timedelta(seconds=at),
        **(source or WINDOWS_SECURITY),
        **fields,
    }


def run(events: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    engine = Engine(load_paths([VECTORS]))
    return [(a.rule_id, dict(a.group)) for ev in events for a in engine.process_flat(ev)]


def test_failed_logins_followed_by_successful_login() -> None:
    failures = [event(i * 20, EventID=4625, User="bob") for i in range(10)]
    fired = run([*failures, event(300, EventID=4624, User="bob")])
    assert fired == [(BRUTE_FORCE, {"User": "bob"})]


def test_nine_failures_or_another_user_do_not_fire() -> None:
    nine = [event(i * 20, EventID=529, User="bob") for i in range(9)]
    assert run([*nine, event(300, EventID=528, User="bob")]) == []
    ten = [event(i * 20, EventID=4625, User="bob") for i in range(10)]
    assert run([*ten, event(300, EventID=4624, User="alice")]) == []
    # success first, failures after: the order is wrong
    assert run([event(0, EventID=4624, User="bob"), *ten]) == []


def test_field_name_aliases_example() -> None:
    """The rules name ECS fields; Kinko events carry ECS `source.ip` and `event.outcome`
    under their Kinko names (`source_ip`, `outcome`), which the compiler maps rule fields to
    (see docs/monitor.md). Fields without a Kinko name (`destination.ip`) stay as written."""
    error = {
        "logsource.category": "webserver",
        "http.response.status_code": 500,
        "destination.ip": "10.0.0.5",
        "source_ip": "203.0.113.9",
    }
    conn = {
        "logsource.category": "network_connection",
        "event.category": "network",
        "event.type": "connection",
        "outcome": "success",
        "source_ip": "10.0.0.5",
        "destination.ip": "203.0.113.9",
    }
    fired = run([event(0, **conn), event(5, **error)])
    assert fired == [("alias_example", {"internal_ip": "10.0.0.5", "remote_ip": "203.0.113.9"})]
    assert run([event(0, **conn), event(11, **error)]) == []  # outside the 10 s timespan
    swapped = {**error, "destination.ip": "10.0.0.6"}
    assert run([event(0, **conn), event(5, **swapped)]) == []
