"""List loaders: format detection, content of each format, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinko.core.errors import InputError
from kinko.screening.loaders import parse_file
from kinko.screening.model import ListFormat, ParsedList

FIXTURES = Path(__file__).parents[2] / "fixtures" / "screening"


def _one(name: str) -> ParsedList:
    [parsed] = parse_file(FIXTURES / name)
    return parsed


def _keys(parsed: ParsedList) -> set[str]:
    return {a.key for a in parsed.addresses}


LAZARUS_KEY = "evm:0x098b716b8aaf21512996dc57eb0615e2383e2f96"


def test_advanced_reads_feature_ids_from_reference_values(tmp_path: Path) -> None:
    parsed = _one("sdn_advanced_excerpt.xml")
    assert parsed.format is ListFormat.OFAC_ADVANCED
    assert parsed.published is not None and parsed.published.date().isoformat() == "2024-05-28"
    assert LAZARUS_KEY in _keys(parsed)
    # Renumber the XBT feature type everywhere: the loader must follow the file, not a constant.
    text = (FIXTURES / "sdn_advanced_excerpt.xml").read_text(encoding="utf-8")
    renumbered = tmp_path / "renumbered.xml"
    renumbered.write_text(
        text.replace('ID="344"', 'ID="9344"').replace(
            'FeatureTypeID="344"', 'FeatureTypeID="9344"'
        ),
        encoding="utf-8",
    )
    [again] = parse_file(renumbered)
    assert _keys(again) == _keys(parsed)


def test_advanced_entities_programs_names_dob_nationality() -> None:
    parsed = _one("sdn_advanced_excerpt.xml")
    park = next(e for e in parsed.entities if e.ref == "24389")
    assert park.programs == ("DPRK3",)
    assert park.birth_dates == ("1984-08-15",)
    assert park.nationalities == ("Korea, North",)
    assert "박진혁" in park.aliases and "PAK Jin Hek" in park.aliases
    assert parsed.unknown_tickers == ("XMR",)
    assert parsed.invalid_addresses == ("XBT 1NaRX1GZgtZ7E8iXo8YUdTtnb8rAK5QFJb",)


def test_all_ofac_formats_agree_on_shared_addresses() -> None:
    advanced = _keys(_one("sdn_advanced_excerpt.xml"))
    for name in ("sdn_enhanced_excerpt.xml", "sdn_legacy_excerpt.xml", "sdn_excerpt.csv"):
        parsed = _one(name)
        assert LAZARUS_KEY in _keys(parsed), name
        assert parsed.name == "ofac-sdn"
    assert _keys(_one("sdn_excerpt.csv")) <= advanced | {"btc:1L4ncif9hh9TnUveqWq77HfWWt6CJWtrnb"}


def test_enhanced_and_legacy_details() -> None:
    enhanced = _one("sdn_enhanced_excerpt.xml")
    assert enhanced.format is ListFormat.OFAC_ENHANCED
    assert enhanced.counts_by_chain() == {"bitcoin": 1, "ethereum": 2, "tron": 1}
    legacy = _one("sdn_legacy_excerpt.xml")
    assert legacy.format is ListFormat.OFAC_LEGACY_XML
    park = next(e for e in legacy.entities if e.ref == "24389")
    assert park.name == "PARK, Jin Hyok" and park.birth_dates == ("1984-08-15",)


def test_sdn_csv_addresses_in_remarks_and_programs() -> None:
    parsed = _one("sdn_excerpt.csv")
    assert parsed.format is ListFormat.OFAC_CSV and parsed.published is None
    suex = next(e for e in parsed.entities if e.ref == "32338")
    assert suex.programs == ("CYBER2",)
    suex_keys = {a.key for a in parsed.addresses if a.entity_ref == "32338"}
    assert "btc:1KUUJPkyDhamZXgpsyXqNGc3x1QPXtdhgz" in suex_keys  # USDT on Omni
    assert parsed.counts_by_chain()["litecoin"] == 1


def test_un_list_names_aliases_original_script() -> None:
    parsed = _one("un_consolidated_synthetic.xml")
    assert parsed.format is ListFormat.UN_XML and parsed.name == "un-consolidated"
    assert parsed.addresses == ()
    jon = next(e for e in parsed.entities if e.ref == "KPi.901")
    assert jon.name == "JON CHANG HYOK"
    assert "전창혁" in jon.aliases and "Jon Chang-hyok" in jon.aliases
    assert jon.programs == ("DPRK",)


def test_kinko_csv_lists_and_refusals(tmp_path: Path) -> None:
    parsed = {p.name: p for p in parse_file(FIXTURES / "kinko_lists_synthetic.csv")}
    assert sorted(parsed) == ["exchange-own", "kr-mofa", "stolen-funds"]
    assert len(parsed["kr-mofa"].addresses) == 0 and len(parsed["kr-mofa"].entities) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "list,entity_name,chain,address,source_ref,listed_on\n"
        "stolen-funds,X,ethereum,0x47666Fab8bd0Ac7003bce3f5C3585383F09486E3,ref,2025-01-01\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="line 2"):
        parse_file(bad)
    with pytest.raises(InputError, match="drop --list"):
        parse_file(FIXTURES / "kinko_lists_synthetic.csv", list_name="mine")


@pytest.mark.parametrize("name", ["billion_laughs.xml", "external_entity.xml"])
def test_unsafe_xml_refused(name: str) -> None:
    with pytest.raises(InputError) as err:
        parse_file(FIXTURES / name)
    assert err.value.code == "list_unsafe_xml"


def test_truncated_and_inconsistent_files_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        parse_file(FIXTURES / "truncated_advanced.xml")
    assert err.value.code == "list_unparseable"
    legacy = (FIXTURES / "sdn_legacy_excerpt.xml").read_text(encoding="utf-8")
    miscounted = tmp_path / "sdn.xml"
    miscounted.write_text(legacy.replace("<Record_Count>2<", "<Record_Count>3<"), encoding="utf-8")
    with pytest.raises(InputError, match="Record_Count 3"):
        parse_file(miscounted)
    csv_text = (FIXTURES / "sdn_excerpt.csv").read_text(encoding="utf-8")
    cut = tmp_path / "sdn.csv"
    cut.write_text(csv_text[: csv_text.index("32338")] + '32338,"SUEX', encoding="utf-8")
    with pytest.raises(InputError, match="line 3"):
        parse_file(cut)


def test_unknown_root_and_foreign_namespace(tmp_path: Path) -> None:
    other = tmp_path / "other.xml"
    other.write_text("<html><body/></html>", encoding="utf-8")
    with pytest.raises(InputError, match="<html>"):
        parse_file(other)
    foreign = tmp_path / "foreign.xml"
    foreign.write_text('<Sanctions xmlns="https://example.org/not-ofac"/>', encoding="utf-8")
    with pytest.raises(InputError, match="not OFAC"):
        parse_file(foreign)
