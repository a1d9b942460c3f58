"""Name normalisation, scoring, and precision/recall on the labelled set of list names."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinko.screening.evaluation import evaluate, load_labelled
from kinko.screening.loaders import parse_file
from kinko.screening.model import VersionId
from kinko.screening.name_index import IndexedEntity, NameIndex
from kinko.screening.names import name_tokens, score_tokens

FIXTURES = Path(__file__).parents[2] / "fixtures" / "screening"
LISTS = ("sdn_advanced_excerpt.xml", "un_consolidated_synthetic.xml", "kinko_lists_synthetic.csv")
PRECISION_FLOOR = 0.9
RECALL_FLOOR = 0.9


@pytest.fixture(scope="module")
def index() -> NameIndex:
    entities = [
        IndexedEntity(
            parsed.name,
            VersionId("lv_test"),
            e.ref,
            e.name,
            (e.name, *e.aliases),
            e.birth_dates,
            e.nationalities,
        )
        for name in LISTS
        for parsed in parse_file(FIXTURES / name)
        for e in parsed.entities
    ]
    return NameIndex(entities)


@pytest.mark.parametrize(
    ("written", "tokens"),
    [
        ("PARK, Jin-Hyok", ("pak", "jin", "hyok")),
        ("Mr. Bak Jin Hyeok", ("pak", "jin", "hyok")),
        ("Párk  Jïn_Hyök", ("pak", "jin", "hyok")),
        ("SUEX OTC, S.R.O.", ("suex", "otc")),
        ("O'Neil", ("oneil",)),
        ("박진혁", ("박진혁",)),
        ("The Lazarus Group", ("lazarus", "group")),
        ("...", ()),
    ],
)
def test_normalisation(written: str, tokens: tuple[str, ...]) -> None:
    assert name_tokens(written) == tokens


def test_scoring_is_order_insensitive_and_penalises_unmatched_tokens() -> None:
    listed = name_tokens("RIM JONG HYOK")
    assert score_tokens(name_tokens("Hyok Jong Rim"), listed).value == 1.0
    assert score_tokens(name_tokens("Kim Jong Hyok"), listed).value < 0.85
    assert score_tokens(name_tokens("Rim Jong"), listed).value < 0.85
    assert score_tokens((), listed).value == 0.0


def test_hit_explains_which_name_and_components(index: NameIndex) -> None:
    [hit] = index.match("Pak Jin Hek", threshold=0.88, dob="1984", nationality="DPRK")
    assert hit.matched_name == "PAK Jin Hek" and hit.entity_name == "PARK Jin Hyok"
    assert "alias 'PAK Jin Hek'" in hit.explanation
    assert "year of birth 1984 matches" in hit.explanation
    assert dict(hit.components)["date_of_birth"] == 0.03
    assert dict(hit.components)["nationality"] == 0.03


def test_dob_and_nationality_lower_the_score(index: NameIndex) -> None:
    plain = index.match("Park Jin Hyok", threshold=0.5)[0].score
    other = index.match("Park Jin Hyok", threshold=0.5, dob="1990-02-03", nationality="Japan")
    assert other[0].score == pytest.approx(plain - 0.20)


def test_precision_and_recall_on_labelled_real_names(index: NameIndex) -> None:
    labelled = load_labelled(FIXTURES / "names_labelled.csv")
    assert sum(1 for item in labelled if item.expected) >= 40
    assert sum(1 for item in labelled if not item.expected) >= 20
    result = evaluate(index, labelled, threshold=0.88)
    assert result.precision >= PRECISION_FLOOR, result.mistakes
    assert result.recall >= RECALL_FLOOR, result.mistakes
    # and the threshold matters: far lower, the near-miss controls start to match
    assert evaluate(index, labelled, threshold=0.7).false_positives > result.false_positives
