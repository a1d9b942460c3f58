"""The engine's key index for mapped sources: a rule of a source's logsource is met only by
events whose key field (CloudTrail's eventName, Okta's eventType, ...) holds a value the
rule requires, compared as the rule compares (case-insensitively), and a rule that does not
pin the field is met by every event of its logsource."""

from __future__ import annotations

import json
from pathlib import Path

from kinko.monitor.engine import Engine
from kinko.monitor.rules import parse_texts
from kinko.monitor.sources import SOURCES, parse_record

SAMPLES = Path(__file__).parents[3] / "fixtures" / "sources"

RULES = """
title: console login
name: login
logsource: {product: aws, service: cloudtrail}
detection:
  s: {eventName: ConsoleLogin}
  condition: s
---
title: trail or login
name: either
logsource: {product: aws, service: cloudtrail}
detection:
  a: {eventName: StopLogging}
  b: {eventName: [ConsoleLogin, DeleteTrail], eventSource: signin.amazonaws.com}
  condition: a or b
---
title: anything but a login
name: not-login
logsource: {product: aws, service: cloudtrail}
detection:
  s: {eventName: ConsoleLogin}
  condition: not s
---
title: console something
name: contains
logsource: {product: aws, service: cloudtrail}
detection:
  s: {eventName|contains: onsole}
  condition: s
"""


def _login(event_name: str) -> dict[str, object]:
    records = json.loads((SAMPLES / "cloudtrail" / "attack.json").read_text())["Records"]
    event = parse_record(SOURCES["cloudtrail"], {**records[0], "eventName": event_name}, where="r")
    return event.flat() | {"origin": "ingest"}


def test_rules_know_the_key_values_they_require() -> None:
    rules = {r.id: r for r in parse_texts([("t.yml", RULES)]).detections}
    assert rules["login"].keyed == frozenset({"consolelogin"})
    assert rules["either"].keyed == frozenset({"stoplogging", "consolelogin", "deletetrail"})
    assert rules["not-login"].keyed is None
    assert rules["contains"].keyed is None


def test_the_index_decides_as_the_rules_do_whatever_the_case() -> None:
    engine = Engine(parse_texts([("t.yml", RULES)]))
    for name, expected in [
        ("ConsoleLogin", {"login", "either", "contains"}),
        ("CONSOLELOGIN", {"login", "either", "contains"}),
        ("StopLogging", {"either", "not-login"}),
        ("GetSecretValue", {"not-login"}),
    ]:
        fired = {a.rule_id for a in engine.process_flat(_login(name))}
        assert fired == expected, name


def test_an_event_without_a_text_key_meets_every_rule_of_its_logsource() -> None:
    engine = Engine(parse_texts([("t.yml", RULES)]))
    event = _login("ConsoleLogin")
    event["eventName"] = ["ConsoleLogin"]  # not text: the index cannot tell, the rules do
    assert {a.rule_id for a in engine.process_flat(event)} == {"login", "either", "contains"}
