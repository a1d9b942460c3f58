"""Sigma keyword searches over a mapped source's free text (sshd's MESSAGE): SigmaHQ's
sshd rules are keyword rules, refused while Kinko had no text to search."""

from __future__ import annotations

import pytest

from kinko.monitor.engine import Engine
from kinko.monitor.rules import parse_texts
from kinko.monitor.sigma_compile import RuleError
from tests.unit.monitor.support import T0

SSHD = "title: t\nname: k\nlogsource: {product: linux, service: sshd}\ndetection:\n"


def _event(message: object) -> dict[str, object]:
    return {
        "type": "sshd.message",
        "time": T0,
        "logsource.product": "linux",
        "logsource.service": "sshd",
        "MESSAGE": message,
    }


def test_a_keyword_occurs_in_the_body_case_insensitively_with_wildcards() -> None:
    text = SSHD + "  k:\n    - 'Corrupted MAC'\n    - 'fatal: buffer_get_*: bad'\n  condition: k\n"
    engine = Engine(parse_texts([("t.yml", text)]))
    assert engine.process_flat(_event("Corrupted MAC on input. [preauth]"))
    assert engine.process_flat(_event("CORRUPTED mac on input"))
    assert engine.process_flat(_event("x fatal: buffer_get_string: bad string"))
    assert not engine.process_flat(_event("Accepted publickey for ops"))
    assert not engine.process_flat(_event(None))
    assert not engine.process_flat({**_event("Corrupted MAC"), "logsource.service": "auditd"})


def test_keywords_with_a_field_selection_and_negation() -> None:
    text = SSHD + "  k: ['Invalid user']\n  ops: {user: ops}\n  condition: k and not ops\n"
    engine = Engine(parse_texts([("t.yml", text)]))
    assert engine.process_flat({**_event("Invalid user admin from x"), "user": "admin"})
    assert not engine.process_flat({**_event("Invalid user ops from x"), "user": "ops"})


@pytest.mark.parametrize(
    ("logsource", "detection", "reason"),
    [
        ("{product: kinko}", "  k: [evil]\n  condition: k\n", "no free-text body"),
        ("{product: linux, service: auditd}", "  k: [evil]\n  condition: k\n", "sshd's MESSAGE"),
        (
            "{product: linux, service: sshd}",
            "  k:\n    '|all': [evil, worse]\n  condition: k\n",
            "keyword search with modifiers",
        ),
    ],
)
def test_keywords_without_a_body_are_refused(logsource: str, detection: str, reason: str) -> None:
    text = f"title: t\nname: k\nlogsource: {logsource}\ndetection:\n{detection}"
    with pytest.raises(RuleError, match=reason):
        parse_texts([("t.yml", text)])
