"""Differential test: the compiler against pySigma's SQLite backend on the same events.

Random single-event rules (modifiers and the condition language) are compiled both ways;
the events are loaded into an in-memory SQLite table (text columns COLLATE NOCASE, as
Sigma compares strings case-insensitively; REGEXP bound to Python's `re.search`) and the
backend's SQL must select exactly the events the compiled predicate accepts.
"""

from __future__ import annotations

import random
import re
import sqlite3
from typing import Any

import pytest
from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection

from kinko.monitor.engine import Engine
from kinko.monitor.rules import parse_texts

ACTORS = ["alice", "ALICE", "bob", "Bobby", "carol_1", "dave-x", "a.b", "abc"]
IPS = ["10.1.2.3", "10.20.0.1", "192.168.1.5", "192.168.2.5", "172.16.0.1"]
TYPES = ["auth.login", "auth.mfa", "chain.outflow"]

ATOMS = [
    "type: auth.login",
    "type: [auth.mfa, chain.outflow]",
    "actor: alice",
    "actor: [bob, abc]",
    "actor|contains: ob",
    "actor|startswith: car",
    "actor|endswith: X",
    "actor: 'a*c'",
    "actor: 'b?b*'",
    "actor|re: '^[a-z]+$'",
    "actor|re: '[0-9]'",
    "actor|contains|all: [a, b]",
    "actor|fieldref: requester",
    "source_ip|cidr: 10.0.0.0/8",
    "source_ip|cidr: 192.168.1.0/24",
    "source_ip|cidr: 172.16.0.0/16",
    "amount|gt: 500",
    "amount|gte: 500",
    "amount|lt: 100",
    "amount|lte: 100",
    "wallet|exists: true",
    "wallet|exists: false",
]


def make_event(rng: random.Random) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": rng.choice(TYPES),
        "actor": rng.choice(ACTORS),
        "requester": rng.choice(ACTORS),
        "source_ip": rng.choice(IPS),
        "amount": rng.choice([0, 99, 100, 101, 499, 500, 501, 1000]),
    }
    if rng.random() < 0.5:
        event["wallet"] = rng.choice(["w1", "w2"])
    return event


def make_rule(rng: random.Random, index: int) -> str:
    names = [f"sel_{i}" for i in range(rng.randint(1, 3))]
    lines = []
    for name in names:
        lines.append(f"  {name}:")
        for atom in rng.sample(ATOMS, rng.randint(1, 2)):
            if atom.split(":")[0].split("|")[0] in "".join(lines[-1:]):
                continue
            lines.append(f"    {atom}")
    ops = [" and ", " or ", " and not "]
    condition = names[0]
    for name in names[1:]:
        condition = f"({condition}){rng.choice(ops)}{name}"
    if rng.random() < 0.2:
        condition = rng.choice(["1 of sel_*", "all of sel_*", "not 1 of sel_*"])
    detection = "\n".join(lines)
    return (
        f"title: r{index}\nname: r{index}\nlogsource: {{product: kinko}}\n"
        f"detection:\n{detection}\n  condition: {condition}\n"
    )


def load(events: list[dict[str, Any]]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.create_function(
        "REGEXP",
        2,
        lambda pattern, value: value is not None and re.search(pattern, value) is not None,
    )
    conn.execute(
        "CREATE TABLE logs (id INTEGER PRIMARY KEY, type TEXT COLLATE NOCASE, "
        "actor TEXT COLLATE NOCASE, requester TEXT COLLATE NOCASE, "
        "source_ip TEXT COLLATE NOCASE, amount INTEGER, wallet TEXT COLLATE NOCASE)"
    )
    conn.executemany(
        "INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (i, e["type"], e["actor"], e["requester"], e["source_ip"], e["amount"], e.get("wallet"))
            for i, e in enumerate(events)
        ],
    )
    return conn


@pytest.mark.parametrize("seed", range(4))
def test_compiler_agrees_with_sqlite_backend(seed: int) -> None:
    rng = random.Random(seed)
    events = [make_event(rng) for _ in range(300)]
    conn = load(events)
    backend = sqliteBackend()
    checked = 0
    for index in range(40):
        text = make_rule(rng, index)
        rules = parse_texts([("r.yml", text)])
        ours = rules.detections[0].predicate
        (query,) = backend.convert(SigmaCollection.from_yaml(text))
        theirs = {row[0] for row in conn.execute(query.replace("SELECT *", "SELECT id", 1))}
        mine = {i for i, e in enumerate(events) if ours(e)}
        assert mine == theirs, f"disagreement on rule:\n{text}\nSQL: {query}"
        # the engine, which indexes the rule by type and decides its type tests in advance
        engine = Engine(rules)
        fired = {i for i, e in enumerate(events) if engine.process_flat({**e, "time": None})}
        assert fired == theirs, f"the engine disagrees on rule:\n{text}\nSQL: {query}"
        checked += 1
    assert checked == 40
