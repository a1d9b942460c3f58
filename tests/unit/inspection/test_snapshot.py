"""The evidence snapshot's encoding: canonical, hashed, parsed back, refused when wrong."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from kinko.core.canonical import canonical_json
from kinko.core.errors import InputError
from kinko.inspection.snapshot import (
    SCHEMA,
    Balance,
    Grant,
    KeyShare,
    Liability,
    Origin,
    Person,
    Price,
    ScreeningList,
    Snapshot,
    Wallet,
    iso,
)
from tests.support.clock import RUN_DAY, RUN_STARTED

NOW = iso(RUN_STARTED)
BIG = 2**64 + 1  # past 2^53: JSON numbers cannot hold it, the snapshot writes a string


def sample() -> Snapshot:
    return Snapshot(
        day=RUN_DAY,
        as_of=NOW,
        origin=Origin.TAKEN,
        wallets=(
            Wallet(
                "w1",
                "btc-cold",
                "bitcoin",
                "mainnet",
                "cold",
                "customer",
                "long_term_cold",
                2,
                3,
                ("bitcoin:BTC",),
                True,
                NOW,
            ),
            Wallet(
                "w2",
                "eth-hot",
                "ethereum",
                "mainnet",
                "hot",
                "customer",
                "operational",
                1,
                1,
                ("ethereum:ETH",),
                True,
                NOW,
            ),
        ),
        balances=(
            Balance("w1", "bitcoin:BTC", 5 * 10**8, "test", NOW),
            Balance("w2", "ethereum:ETH", BIG, "chain:mainnet", NOW),
        ),
        liabilities=(Liability("bitcoin:BTC", 4 * 10**8, "ledger.csv", NOW),),
        prices=(Price("JPY", "bitcoin:BTC", RUN_DAY.isoformat(), "15000000.25"),),
        keys=(
            KeyShare("k1", "w1", "usr_a", "yubihsm-1", "tokyo", "Kinko KK", "02ab", "active", NOW),
        ),
        people=(
            Person(
                "usr_a",
                "ada",
                "active",
                (Grant("custodian", ("bitcoin:BTC",), (), NOW, "system:test"),),
                1,
                0,
                10,
            ),
        ),
        screening_lists=(
            ScreeningList("ofac-sdn", "v1", "ofac", None, "ab" * 32, "kinko_csv", NOW, 3, 5),
        ),
        gaps=(),
    )


def test_the_encoding_is_canonical_json_and_the_digest_its_sha256() -> None:
    snap = sample()
    doc = snap.to_json()
    assert doc["schema"] == SCHEMA
    assert snap.encode() == canonical_json(doc)
    assert snap.digest == hashlib.sha256(snap.encode()).hexdigest()
    assert doc["balances"][1]["base_units"] == str(BIG)  # amounts as decimal strings
    assert sample().digest == snap.digest  # equal evidence, equal digest


def test_it_parses_back_to_the_same_snapshot() -> None:
    snap = sample()
    again = Snapshot.from_json(json.loads(snap.encode()))
    assert again == snap
    assert again.digest == snap.digest


@pytest.mark.parametrize(
    "change",
    [
        lambda s: replace(s, balances=(replace(s.balances[0], base_units=1), s.balances[1])),
        lambda s: replace(s, balances=None),
        lambda s: replace(s, liabilities=()),
        lambda s: replace(s, prices=(replace(s.prices[0], price="15000000.26"),)),
        lambda s: replace(s, wallets=(replace(s.wallets[0], tier="hot"), s.wallets[1])),
        lambda s: replace(s, keys=(replace(s.keys[0], device="yubihsm-2"),)),
        lambda s: replace(s, people=(replace(s.people[0], totp=1),)),
        lambda s: replace(s, people=(replace(s.people[0], grants=()),)),
        lambda s: replace(s, screening_lists=(replace(s.screening_lists[0], sha256="cd" * 32),)),
        lambda s: replace(s, origin=Origin.BACKFILLED),
        lambda s: replace(s, gaps=("balances: none",)),
    ],
)
def test_any_change_of_evidence_changes_the_digest(change) -> None:  # type: ignore[no-untyped-def]
    snap = sample()
    assert change(snap).digest != snap.digest


def test_lists_out_of_order_or_repeated_are_refused() -> None:
    snap = sample()
    with pytest.raises(InputError) as caught:
        replace(snap, wallets=tuple(reversed(snap.wallets)))
    assert caught.value.field == "wallets[1]"
    with pytest.raises(InputError):
        replace(snap, keys=(snap.keys[0], snap.keys[0]))


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("balances", 0, "base_units"), 5, "snapshot.balances[0].base_units"),
        (("balances", 0, "base_units"), "-5", "snapshot.balances[0].base_units"),
        (("wallets", 0, "quorum_m"), "2", "snapshot.wallets[0].quorum_m"),
        (("people", 0, "grants", 0, "role"), None, "snapshot.people[0].grants[0].role"),
        (("schema",), "other/1", "snapshot.schema"),
        (("prices", 0, "price"), "1e6", "prices[0].price"),
    ],
)
def test_a_bad_field_is_named(path: tuple[object, ...], value: object, field: str) -> None:
    doc = json.loads(sample().encode())
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InputError) as caught:
        Snapshot.from_json(doc)
    assert caught.value.field == field


def test_unknown_and_missing_fields_are_named() -> None:
    doc = json.loads(sample().encode())
    doc["keys"][0]["colour"] = "red"
    with pytest.raises(InputError) as caught:
        Snapshot.from_json(doc)
    assert caught.value.field == "snapshot.keys[0].colour"
    doc = json.loads(sample().encode())
    del doc["people"]
    with pytest.raises(InputError) as caught:
        Snapshot.from_json(doc)
    assert caught.value.field == "snapshot.people"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.update(colour="red"), "snapshot.balances[1].colour"),
        (lambda b: (b.pop("source"), b.update(colour="red")), "snapshot.balances[1].source"),
        (lambda b: b.update(base_units="05"), "snapshot.balances[1].base_units"),
        (lambda b: b.update(base_units="5,6"), "snapshot.balances[1].base_units"),
        (lambda b: b.update(base_units="+5"), "snapshot.balances[1].base_units"),
        (lambda b: b.update(wallet=7), "snapshot.balances[1].wallet"),
        (lambda b: b.update(as_of=1), "snapshot.balances[1].as_of"),
    ],
)
def test_a_bad_balance_among_good_ones_is_named(change, field: str) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(sample().encode())
    change(doc["balances"][1])
    with pytest.raises(InputError) as caught:
        Snapshot.from_json(doc)
    assert caught.value.field == field


def test_parsed_balances_share_equal_strings() -> None:
    """A year of days holds millions of balances: each day's equal wallet ids, assets,
    sources and times are one string each, not one per balance."""
    snap = replace(
        sample(),
        balances=tuple(
            Balance(w, a, 1, "node", NOW) for w in ("w1", "w2") for a in ("bitcoin:BTC", "x:Y")
        ),
    )
    parsed = Snapshot.from_json(json.loads(snap.encode()))
    assert parsed == snap
    first, *rest = parsed.balances or ()
    assert all(b.source is first.source and b.as_of is first.as_of for b in rest)
    assert parsed.balances is not None
    assert parsed.balances[0].wallet is parsed.balances[1].wallet
    assert parsed.balances[0].asset is parsed.balances[2].asset


def test_days_parsed_with_one_shared_dict_share_their_strings() -> None:
    """A run parses a year of days that name the same wallets, keys and people: parsed
    with one `shared` dict, a string equal across days is one object."""
    shared: dict[object, object] = {}
    one = Snapshot.from_json(json.loads(sample().encode()), "day 1", shared)
    two = Snapshot.from_json(json.loads(sample().encode()), "day 2", shared)
    assert one == two == sample()
    assert one.keys[0].device is two.keys[0].device
    assert one.wallets[0].assets[0] is two.wallets[0].assets[0]
    assert one.people[0].grants[0].role is two.people[0].grants[0].role
    assert one.balances is not None and two.balances is not None
    assert one.balances[0].wallet is two.balances[0].wallet
