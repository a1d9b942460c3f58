"""Conformance to the Sigma specification (v2.1.0) and to what pySigma expands.

Cases come from the specification's text (sigma-rules-specification.md, "Detection";
sigma-appendix-modifiers.md) and from pySigma 2.0.1's modifier definitions. Each names the
section it checks.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kinko.monitor.rules import parse_texts
from kinko.monitor.sigma_compile import RuleError

HEADER = "title: t\nid: 0c6f0b43-5c39-4d3b-9d0e-2a3f3f1b9a11\nlogsource: {product: kinko}\n"


def rule(detection: str) -> Any:
    return parse_texts([("t.yml", HEADER + "detection:\n" + detection)]).detections[0]


def matches(selection: str, event: dict[str, Any], condition: str = "s") -> bool:
    detection = f"  s:\n    {selection}\n  condition: {condition}\n"
    return bool(rule(detection).predicate({"type": "x.y", **event}))


# Modifiers appendix, "Encoding" and "String Modifiers": pySigma expands these; Kinko matches
# the values they expand to.
def test_windash_matches_every_dash_form() -> None:
    for dash in ("-", "/", "\u2013", "\u2014", "\u2015"):
        assert matches("cmd|windash|contains: ' -enc '", {"cmd": f"powershell {dash}enc x"})
    assert not matches("cmd|windash|contains: ' -enc '", {"cmd": "powershell +enc x"})


def test_base64offset_finds_the_value_at_any_offset() -> None:
    for prefix in ("", "a", "ab"):
        encoded = base64.b64encode(f"{prefix}http://evil".encode()).decode()
        assert matches("cmd|base64offset|contains: 'http://'", {"cmd": f"x {encoded} y"})
    assert not matches("cmd|base64offset|contains: 'http://'", {"cmd": "aHR0cHM6"})


def test_base64_and_wide_encodings() -> None:
    assert matches("cmd|base64: 'whoami'", {"cmd": "d2hvYW1p"})
    wide = "w\x00h\x00o\x00"
    assert matches("cmd|wide|contains: 'who'", {"cmd": f"x{wide}y"})
    assert matches("cmd|utf16be|contains: 'who'", {"cmd": "\x00w\x00h\x00o"})
    assert matches("cmd|utf16|startswith: 'w'", {"cmd": "\ufeffw\x00rest"})
    utf16_b64 = base64.b64encode("who".encode("utf-16le")).decode()
    assert matches("cmd|wide|base64: 'who'", {"cmd": utf16_b64})


# Modifiers appendix, "Generic Modifiers" > neq: "The field is different from the specified
# values" (pySigma: the detection item is negated).
def test_neq_is_accepted_and_negates() -> None:
    assert matches("outcome|neq: success", {"outcome": "failure"})
    assert not matches("outcome|neq: success", {"outcome": "SUCCESS"})
    assert not matches("outcome|neq: [success, failure]", {"outcome": "failure"})
    assert matches("n|neq: 5", {"n": 6})
    assert not matches("n|neq: 5", {"n": 5})


# Modifiers appendix, "Time Modifiers": a number extracted from a date.
@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        ("time|minute: 7", True),
        ("time|hour: 22", True),
        ("time|hour: 7", False),
        ("time|day: 31", True),
        ("time|week: 1", True),  # ISO week: 2025-12-31 falls in week 1 of 2026
        ("time|month: 12", True),
        ("time|year: 2025", True),
        ("time|hour|gte: 22", True),
        ("time|hour|lt: 6", False),
    ],
)
def test_time_modifiers(selection: str, expected: bool) -> None:
    tokyo = timezone(timedelta(hours=9))
    at = datetime(2026, 1, 1, 7, 7, tzinfo=tokyo)  # 2025-12-31 22:07 UTC
    assert matches(selection, {"time": at}) is expected
    assert matches(selection, {"time": "2025-12-31T22:07:00Z"}) is expected


def test_time_modifier_on_a_non_date_does_not_match() -> None:
    assert not matches("time|hour: 22", {"time": "yesterday"})
    assert not matches("time|hour: 22", {"time": 22})


# Rules specification, "Detection" > "General": "All values are treated as case-insensitive
# strings."
@pytest.mark.parametrize(
    ("selection", "value", "expected"),
    [
        ("Initiated: true", True, True),
        ("Initiated: true", "true", True),
        ("Initiated: true", "TRUE", True),
        ("Initiated: true", False, False),
        ("Initiated: true", "false", False),
        ("Initiated: true", 1, False),
        ("Initiated: false", "False", True),
        ("Initiated: 'true'", True, True),
        ("EventID: 4625", "4625", True),
        ("EventID: 4625", 4625, True),
        ("EventID: 4625", "04625", False),
        ("EventID: 4625", True, False),
        ("EventID: '4625'", 4625, True),
        ("Ratio: 0.5", 0.5, True),
        ("Ratio: 0.5", "0.5", True),
    ],
)
def test_booleans_and_numbers_as_strings(selection: str, value: Any, expected: bool) -> None:
    assert matches(selection, {selection.split(":", maxsplit=1)[0]: value}) is expected


@pytest.mark.parametrize(
    ("selection", "value", "expected"),
    [
        ("actor: 'STRASSE'", "straße", True),  # full Unicode case folding
        ("actor|contains: 'ΣΟΦ'", "σοφία", True),
        ("actor: 'straße*'", "STRASSEN", True),  # wildcard patterns fold both sides too
        ("actor: '*straße?'", "xSTRASSEN", True),
        ("actor|cased: 'Straße'", "straße", False),
        ("actor: 'ÅNGSTRÖM'", "ångström", True),
    ],
)
def test_non_ascii_case_folding(selection: str, value: str, expected: bool) -> None:
    assert matches(selection, {"actor": value}) is expected


# Rules specification, "Escape Character".
@pytest.mark.parametrize(
    ("value", "event", "expected"),
    [
        ("'a\\*b'", "a*b", True),
        ("'a\\*b'", "axb", False),
        ("'a\\?b'", "a?b", True),
        ("'a\\?b'", "axb", False),
        ("'a\\\\*'", "a\\xyz", True),  # escaped backslash, then a wildcard
        ("'a\\\\\\*'", "a\\*", True),  # escaped backslash, escaped wildcard
        ("'a\\\\\\*'", "a\\x", False),
        ("'c:\\windows\\\\*'", "C:\\Windows\\System32", True),
        ("'c:\\windows\\*'", "C:\\Windows\\System32", False),  # \\* is a literal *
        ("'c:\\windows\\*'", "c:\\windows*", True),
    ],
)
def test_wildcard_escaping(value: str, event: str, expected: bool) -> None:
    assert matches(f"path: {value}", {"path": event}) is expected


# Modifiers appendix, exists: "this check only verifies the presence of a field, not its value,
# be it empty or null". Rules specification, "Special Field Values": null.
def test_null_versus_missing() -> None:
    assert matches("f|exists: true", {"f": None})
    assert not matches("f|exists: false", {"f": None})
    assert matches("f|exists: false", {})
    assert matches("f|exists: true", {"f": ""})
    assert matches("f: null", {"f": None})
    assert matches("f: null", {})
    assert not matches("f: null", {"f": ""})
    assert matches("f: ''", {"f": ""})
    assert not matches("f: ''", {"f": None})


# Modifiers appendix, fieldref (+ contains/startswith/endswith, as pySigma's backends read them).
@pytest.mark.parametrize(
    ("selection", "event", "expected"),
    [
        ("a|fieldref|contains: b", {"a": "xx-needle-yy", "b": "NEEDLE"}, True),
        ("a|fieldref|contains: b", {"a": "needle-yy", "b": "needle"}, True),
        ("a|fieldref|contains: b", {"a": "nee-dle", "b": "needle"}, False),
        # "starts with AND ends with" would have matched this one:
        ("a|fieldref|contains: b", {"a": "abXab", "b": "ab"}, True),
        ("a|fieldref|contains: b", {"a": "abXba", "b": "abXba-longer"}, False),
        ("a|fieldref|startswith: b", {"a": "user:alice", "b": "USER:"}, True),
        ("a|fieldref|endswith: b", {"a": "alice@corp", "b": "@CORP"}, True),
        ("a|fieldref: b", {"a": 7, "b": "7"}, True),
        ("a|fieldref: b", {"a": "Alice", "b": "alice"}, True),
        ("a|fieldref: b", {"a": True, "b": "true"}, True),
        ("a|fieldref: b", {"a": 7, "b": "8"}, False),
        ("a|fieldref|contains: b", {"a": 1234, "b": "23"}, True),
        ("a|fieldref|neq: b", {"a": "x", "b": "y"}, True),
        ("a|fieldref|neq: b", {"a": "x", "b": "X"}, False),
    ],
)
def test_fieldref(selection: str, event: dict[str, Any], expected: bool) -> None:
    assert matches(selection, event) is expected


def test_cidr_and_regex_flags() -> None:
    assert matches("ip|cidr: 10.0.0.0/8", {"ip": "10.255.0.1"})
    assert not matches("ip|cidr: 10.0.0.0/8", {"ip": "not an ip"})
    assert matches("ip|cidr: 'fe80::/10'", {"ip": "FE80::1"})
    assert not matches("ip|cidr: 'fe80::/10'", {"ip": "10.0.0.1"})
    assert matches("m|re|m: '^two$'", {"m": "one\ntwo\nthree"})
    assert not matches("m|re: '^two$'", {"m": "one\ntwo\nthree"})
    assert matches("m|re|s: 'one.two'", {"m": "one\ntwo"})
    assert not matches("m|re: 'one.two'", {"m": "one\ntwo"})
    assert matches("m|re|i: 'ONE'", {"m": "one"})


@pytest.mark.parametrize(
    ("detection", "construct"),
    [
        ("  s:\n    f|expand: '%servers%'\n  condition: s\n", "placeholders (|expand)"),
        ("  s: [evil]\n  condition: s\n", "keyword search"),
        ("  s:\n    f|re: '\\pL+'\n  condition: s\n", "does not compile"),
        ("  s:\n    f|re: '(?<=a'\n  condition: s\n", "does not parse"),
    ],
)
def test_what_kinko_cannot_evaluate_is_refused_with_rule_and_reason(
    detection: str, construct: str
) -> None:
    with pytest.raises(RuleError) as info:
        rule(detection)
    message = f"{info.value.field}: {info.value.message}"
    assert "0c6f0b43-5c39-4d3b-9d0e-2a3f3f1b9a11" in message
    assert construct in message


def test_every_modifier_pysigma_maps_is_accepted_or_refused_with_a_reason() -> None:
    """No modifier is silently accepted: each pySigma names is either evaluated or refused
    with a reason (`REFUSED_MODIFIERS`)."""
    from sigma.modifiers import modifier_mapping

    from kinko.monitor.sigma_compile import REFUSED_MODIFIERS, SUPPORTED_MODIFIERS

    unknown = {
        name
        for name, cls in modifier_mapping.items()
        if cls not in SUPPORTED_MODIFIERS and cls not in REFUSED_MODIFIERS
    }
    assert unknown == set()


def test_now_is_not_special() -> None:
    """Time modifiers read the event's own time, never the clock."""
    now = datetime.now(UTC)
    assert matches(f"time|year: {now.year}", {"time": now})


def test_sigma_filters_apply_to_the_rules_they_name() -> None:
    """Sigma filters specification: a filter document narrows the rules it names."""
    text = (
        HEADER.replace("id: 0c6f0b43-5c39-4d3b-9d0e-2a3f3f1b9a11", "name: login")
        + "detection:\n  s: {type: auth.login}\n  condition: s\n---\n"
        "title: not the service account\nlogsource: {product: kinko}\n"
        "filter:\n  rules: [login]\n  selection: {actor: svc}\n  condition: not selection\n"
    )
    (login,) = parse_texts([("f.yml", text)]).detections
    assert login.predicate({"type": "auth.login", "actor": "alice"})
    assert not login.predicate({"type": "auth.login", "actor": "svc"})
