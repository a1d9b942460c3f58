"""The Sigma compiler: modifiers, the condition language, the type index, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from kinko.monitor.rules import parse_texts
from kinko.monitor.sigma_compile import RuleError

HEADER = "title: t\nname: r\nlogsource: {product: kinko}\n"


def predicate(detection: str) -> Any:
    rules = parse_texts([("t.yml", HEADER + "detection:\n" + detection)])
    return rules.detections[0]


def matches(detection: str, event: dict[str, Any]) -> bool:
    return bool(predicate(detection).predicate({"type": "x.y", **event}))


@pytest.mark.parametrize(
    ("detection", "event", "expected"),
    [
        ("  s: {actor: Alice}\n  condition: s\n", {"actor": "alice"}, True),
        ("  s: {actor: Alice}\n  condition: s\n", {"actor": "alicia"}, False),
        ("  s: {actor|cased: Alice}\n  condition: s\n", {"actor": "alice"}, False),
        ("  s: {actor|contains: lic}\n  condition: s\n", {"actor": "ALICE"}, True),
        ("  s: {actor|startswith: al}\n  condition: s\n", {"actor": "xal"}, False),
        ("  s: {actor|endswith: ce}\n  condition: s\n", {"actor": "alice"}, True),
        ("  s: {actor: 'a*c?'}\n  condition: s\n", {"actor": "abbce"}, True),
        ("  s: {actor: 'a*c?'}\n  condition: s\n", {"actor": "abbc"}, False),
        ("  s: {actor|re: '^a[0-9]+$'}\n  condition: s\n", {"actor": "a42"}, True),
        ("  s: {actor|re: '^a[0-9]+$'}\n  condition: s\n", {"actor": "A42"}, False),
        ("  s: {actor|re|i: '^a[0-9]+$'}\n  condition: s\n", {"actor": "A42"}, True),
        ("  s: {source_ip|cidr: 10.0.0.0/8}\n  condition: s\n", {"source_ip": "10.2.3.4"}, True),
        ("  s: {source_ip|cidr: 10.0.0.0/8}\n  condition: s\n", {"source_ip": "11.0.0.1"}, False),
        (
            "  s: {source_ip|cidr: '2001:db8::/32'}\n  condition: s\n",
            {"source_ip": "2001:db8::1"},
            True,
        ),
        ("  s: {amount|gt: 10}\n  condition: s\n", {"amount": 11}, True),
        ("  s: {amount|gt: 10}\n  condition: s\n", {"amount": 10}, False),
        ("  s: {amount|gte: 10}\n  condition: s\n", {"amount": 10}, True),
        ("  s: {amount|lt: 10}\n  condition: s\n", {"amount": 10}, False),
        ("  s: {amount|lte: 10}\n  condition: s\n", {"amount": 10}, True),
        ("  s: {amount|gt: 10}\n  condition: s\n", {"amount": "11"}, False),
        ("  s: {amount|gte: 1000000000000000000000}\n  condition: s\n", {"amount": 10**21}, True),
        ("  s: {wallet|exists: true}\n  condition: s\n", {"wallet": "w"}, True),
        ("  s: {wallet|exists: true}\n  condition: s\n", {}, False),
        ("  s: {wallet|exists: false}\n  condition: s\n", {}, True),
        (
            "  s: {actor|fieldref: requester}\n  condition: s\n",
            {"actor": "u", "requester": "u"},
            True,
        ),
        (
            "  s: {actor|fieldref: requester}\n  condition: s\n",
            {"actor": "u", "requester": "v"},
            False,
        ),
        ("  s: {actor|fieldref: requester}\n  condition: s\n", {"actor": "u"}, False),
        ("  s: {actor|contains|all: [a, e]}\n  condition: s\n", {"actor": "alice"}, True),
        ("  s: {actor|contains|all: [a, z]}\n  condition: s\n", {"actor": "alice"}, False),
        ("  s: {actor|contains: [z, e]}\n  condition: s\n", {"actor": "alice"}, True),
        (
            "  s: {scopes|contains: withdraw}\n  condition: s\n",
            {"scopes": ["a", "withdraw:x"]},
            True,
        ),
        ("  s: {wallet: null}\n  condition: s\n", {}, True),
        ("  s: {flag: true}\n  condition: s\n", {"flag": True}, True),
        ("  s: {flag: true}\n  condition: s\n", {"flag": "yes"}, False),
        ("  s: {n: 5}\n  condition: s\n", {"n": 5}, True),
        ("  s: {event.action: x.y}\n  condition: s\n", {}, True),
        ("  s: {user.name: bob}\n  condition: s\n", {"actor": "bob"}, True),
    ],
)
def test_modifiers(detection: str, event: dict[str, Any], expected: bool) -> None:
    assert matches(detection, event) is expected


CONDITIONS = """  a: {actor: u1}
  b: {outcome: failure}
  c_one: {wallet: w1}
  c_two: {asset: ETH}
  condition: {cond}
"""


@pytest.mark.parametrize(
    ("cond", "event", "expected"),
    [
        ("a and b", {"actor": "u1", "outcome": "failure"}, True),
        ("a and b", {"actor": "u1"}, False),
        ("a or b", {"outcome": "failure"}, True),
        ("a and not b", {"actor": "u1", "outcome": "failure"}, False),
        ("a and not b", {"actor": "u1", "outcome": "success"}, True),
        ("1 of c_*", {"asset": "ETH"}, True),
        ("all of c_*", {"asset": "ETH"}, False),
        ("all of c_*", {"asset": "ETH", "wallet": "w1"}, True),
        ("a and (b or 1 of c_*)", {"actor": "u1", "wallet": "w1"}, True),
        ("(a and b) or c_one", {"actor": "u1"}, False),
        ("not 1 of them", {"actor": "u9"}, True),
    ],
)
def test_condition_language(cond: str, event: dict[str, Any], expected: bool) -> None:
    assert matches(CONDITIONS.replace("{cond}", cond), event) is expected


def test_type_index() -> None:
    assert predicate("  s: {type: auth.login}\n  condition: s\n").types == {"auth.login"}
    either = "  s: {type: [auth.login, auth.mfa]}\n  t: {actor: a}\n  condition: s and t\n"
    assert predicate(either).types == {"auth.login", "auth.mfa"}
    assert predicate("  s: {type: auth.*}\n  condition: s\n").types is None
    assert predicate("  s: {type: auth.login}\n  condition: not s\n").types is None
    mixed = "  s: {type: auth.login}\n  t: {actor: a}\n  condition: s or t\n"
    assert predicate(mixed).types is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + "detection:\n  s: {actor|expand: '%x%'}\n  condition: s\n", "placeholders"),
        (HEADER + "detection:\n  s: {actor|bogus: x}\n  condition: s\n", "bogus"),
        (HEADER + "detection:\n  s: [evil]\n  condition: s\n", "keyword search"),
        (HEADER + "detection:\n  s: {actor: x}\n  condition: s and\n", "found end of text"),
        (HEADER + "detection:\n  s: {actor: x}\n  condition: t\n", "'t' not defined"),
        ("title: [unclosed\n", "does not parse"),
        (
            HEADER + "kinko: {response: explode}\ndetection:\n  s: {a: x}\n  condition: s\n",
            "kinko.response",
        ),
        (
            HEADER
            + "kinko: {response: alert, scope: all}\ndetection:\n  s: {a: x}\n  condition: s\n",
            "scope",
        ),
    ],
)
def test_bad_rules_refused_with_reason(text: str, message: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_texts([("bad.yml", text)])
    assert message in info.value.message


def test_correlation_refusals() -> None:
    base = HEADER + "detection:\n  s: {type: a.b}\n  condition: s\n---\n"
    corr = (
        "title: c\nname: c\ncorrelation:\n  type: event_count\n  rules: [r]\n"
        "  group-by: [actor]\n  timespan: 5m\n  condition: {gte: 3}\n"
    )
    dangling = corr.replace("rules: [r]", "rules: [nope]")
    with pytest.raises(RuleError, match=r"does not resolve|does not parse"):
        parse_texts([("c.yml", base + dangling)])
    percentile = corr.replace("event_count", "value_percentile").replace(
        "{gte: 3}", "{lte: 1, field: amount}"
    )
    with pytest.raises(RuleError, match="value_percentile the specification does not define"):
        parse_texts([("c.yml", base + percentile)])
    ordered = corr.replace("event_count", "temporal_ordered").replace("gte: 3", "lt: 2")
    with pytest.raises(RuleError, match="temporal_ordered condition lt is not supported"):
        parse_texts([("c.yml", base + ordered)])


def test_empty_pack_refused() -> None:
    with pytest.raises(RuleError, match="no rules"):
        parse_texts([])


def test_duplicate_rule_refused() -> None:
    text = HEADER + "detection:\n  s: {a: x}\n  condition: s\n"
    with pytest.raises(RuleError, match="defined twice"):
        parse_texts([("a.yml", text), ("b.yml", text)])


def test_engine_meets_only_rules_that_can_match() -> None:
    from dataclasses import replace

    from kinko.monitor.engine import Engine
    from kinko.monitor.rules import build_ruleset

    text = (
        "title: a\nname: login\nlogsource: {product: kinko}\n"
        "detection:\n  s: {type: auth.login}\n  condition: s\n---\n"
        "title: b\nname: any-auth\nlogsource: {product: kinko}\n"
        "detection:\n  s: {type: auth.*}\n  condition: s\n"
    )
    calls: dict[str, int] = {"login": 0, "any-auth": 0}

    def counting(rule: Any) -> Any:
        def count(inner: Any) -> Any:
            if isinstance(inner, bool):  # decided by the type alone: nothing to run
                return inner

            def pred(ev: Any) -> bool:
                calls[rule.id] += 1
                return bool(inner(ev))

            return pred

        by_type = tuple((name, count(verdict)) for name, verdict in rule.by_type)
        return replace(rule, predicate=count(rule.predicate), by_type=by_type)

    rules = parse_texts([("r.yml", text)])
    engine = Engine(build_ruleset([counting(r) for r in rules.detections], []))
    fired = [
        a.rule_id
        for t in ("auth.login", "auth.mfa", "chain.outflow")
        for a in engine.process_flat({"type": t, "time": None})
    ]
    assert fired == ["login", "any-auth", "any-auth"]
    # `login` is indexed under auth.login, where its one test (the type) is already decided;
    # `any-auth` (a wildcard type: not indexed) is evaluated on every event
    assert calls == {"login": 0, "any-auth": 3}


def test_a_rule_indexed_by_type_runs_only_its_other_tests() -> None:
    """For each type a rule is indexed under, its tests of the type are decided when it
    loads; what remains gives the same verdict as the whole predicate."""
    text = HEADER + (
        "detection:\n  s: {type: [auth.login, AUTH.MFA], outcome: failure}\n"
        "  t: {event.action: auth.mfa}\n  condition: s and not t\n"
    )
    rule = parse_texts([("t.yml", text)]).detections[0]
    assert rule.types == {"auth.login", "auth.mfa"}
    decided = dict(rule.by_type)
    assert decided["auth.mfa"] is False  # `not t` fails for every auth.mfa event
    login = decided["auth.login"]
    assert callable(login)
    for outcome in ("failure", "FAILURE", "success", None):
        event = {"type": "auth.login", "outcome": outcome}
        assert login(event) == rule.predicate(event) == (outcome in ("failure", "FAILURE"))
    only_type = parse_texts([("t.yml", HEADER + "detection:\n  s: {type: x.y}\n  condition: s\n")])
    assert dict(only_type.detections[0].by_type) == {"x.y": True}
