"""The replay's records and table (pure)."""

from __future__ import annotations

import json

import pytest

from kinko.replays.model import SCHEMA, Control, Outcome, Result, units
from kinko.replays.scenarios import SCENARIOS
from kinko.replays.table import HEADER, markdown_table


def result(loss: int = 0) -> Result:
    return Result(
        scenario=SCENARIOS["coincheck-2018"],
        outcome=Outcome.BOUNDED,
        asset="ETH",
        decimals=18,
        loss_units=loss,
        alert_after_s=2.0,
        freeze_after_s=2.0,
        controls=(Control("rule:kinko-hot-outflow-without-withdrawal", (41,)),),
        observations=("seen",),
        refill_state="held",
    )


def test_every_scenario_is_sourced_and_says_what_kinko_cannot_prevent() -> None:
    for name, scenario in SCENARIOS.items():
        assert scenario.name == name
        assert scenario.historical.sources, name
        assert all(s.url.startswith("http") for s in scenario.historical.sources)
        assert scenario.not_prevented, name
        assert scenario.attempted_units > 0
        replayed = scenario.replayed_on.split("/")[0]  # "ethereum", "bitcoin"
        if not scenario.historical.chain.startswith(replayed):  # replayed elsewhere: says so
            assert "Ethereum" in scenario.substitution or "ETH" in scenario.substitution


def test_json_amounts_are_integer_strings_and_the_share_is_of_the_attempt() -> None:
    doc = result(100 * 10**18).to_json()
    assert doc["schema"] == SCHEMA and doc["outcome"] == "bounded"
    assert doc["loss_units"] == str(100 * 10**18)
    assert doc["attempted_units"] == str(523_000 * 10**18)
    assert doc["loss_share"] == pytest.approx(100 / 523_000)
    assert doc["controls"] == [
        {"name": "rule:kinko-hot-outflow-without-withdrawal", "audit_seqs": [41]}
    ]
    assert doc["historical"]["detection_s"] == 11 * 3600 + 23 * 60
    json.dumps(doc)  # a JSON document as is


def test_units_are_exact() -> None:
    assert units(45_029 * 10**17, 18) == "4,502.9"
    assert units(1, 18) == "0.000000000000000001"
    assert units(0, 8) == "0"


def test_table_has_a_row_per_result_with_both_figures() -> None:
    text = markdown_table([result(5 * 10**17)])
    lines = text.splitlines()
    assert lines[:2] == HEADER.splitlines()
    assert "523M XEM" in lines[2] and "0.5 ETH" in lines[2] and "**bounded**" in lines[2]
    assert "(#41)" in lines[2]


def test_a_refusal_with_nothing_stored_is_named_without_entry_numbers() -> None:
    from dataclasses import replace

    refused = replace(result(0), controls=(Control("custody:quorum_within_one_entity", ()),))
    (row,) = markdown_table([refused]).splitlines()[2:]
    assert row.endswith("| custody:quorum_within_one_entity |")
