"""Each rule of the catalogue loader refuses a catalogue that breaks it, naming id and field.

Every test starts from a valid one-control catalogue (accepted: `test_the_base_is_accepted`)
and breaks exactly one thing, so each fails if its check is removed.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from kinko.core.errors import InputError
from kinko.inspection.catalogue import (
    CatalogueError,
    Control,
    Decision,
    Framework,
    Reference,
    parse_catalogue,
)

BASE: dict[str, Any] = {
    "version": "test-1",
    "sources": {
        "nist-src": {"title": "SP 800-53", "url": "https://example.org/", "kind": "primary"}
    },
    "controls": [
        {
            "id": "KEY-01",
            "title": "Multi-signature quorum",
            "decision": "automatic",
            "data": ["quorum_config"],
            "rule": "m >= min_signers",
            "parameters": [
                {"name": "min_signers", "value": 2, "unit": "count", "organisation_defined": False}
            ],
            "references": [
                {"framework": "nist", "citation": "AC-5", "verified": True, "source": "nist-src"},
                {"framework": "ccss", "citation": "1.02.1", "levels": ["II"], "verified": False,
                 "note": "level not read"},
            ],
        }
    ],
}  # fmt: skip


def refused(mutate: Any) -> CatalogueError:
    doc = copy.deepcopy(BASE)
    mutate(doc)
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(yaml.safe_dump(doc, allow_unicode=True))
    return caught.value


def control(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["controls"][0]  # type: ignore[no-any-return]


def test_the_base_is_accepted() -> None:
    catalogue = parse_catalogue(yaml.safe_dump(BASE))
    assert [c.id for c in catalogue.controls] == ["KEY-01"]


def test_an_unknown_framework_is_refused() -> None:
    error = refused(lambda d: control(d)["references"][0].update(framework="soc2"))
    assert error.field == "controls[0] (id=KEY-01).references[0].framework"
    assert "jp, kr, ccss, nist" in error.message


def test_a_duplicate_id_is_refused() -> None:
    error = refused(lambda d: d["controls"].append(copy.deepcopy(control(d))))
    assert error.field == "controls[1] (id=KEY-01).id"
    assert "duplicate" in error.message


def test_an_automatic_control_without_a_rule_is_refused() -> None:
    error = refused(lambda d: control(d).pop("rule"))
    assert error.field == "controls[0] (id=KEY-01).rule"


def test_a_manual_control_may_have_no_rule() -> None:
    doc = copy.deepcopy(BASE)
    control(doc).pop("rule")
    control(doc)["decision"] = "manual"
    assert parse_catalogue(yaml.safe_dump(doc)).controls[0].decision is Decision.MANUAL


def test_a_parameter_without_a_value_is_refused() -> None:
    error = refused(lambda d: control(d)["parameters"][0].pop("value"))
    assert error.field == "controls[0] (id=KEY-01).parameters[0].value"


def test_a_parameter_not_marked_organisation_defined_or_not_is_refused() -> None:
    error = refused(lambda d: control(d)["parameters"][0].pop("organisation_defined"))
    assert error.field == "controls[0] (id=KEY-01).parameters[0].organisation_defined"


def test_a_ccss_reference_without_a_level_is_refused() -> None:
    error = refused(lambda d: control(d)["references"][1].pop("levels"))
    assert error.field == "controls[0] (id=KEY-01).references[1].levels"


def test_an_unknown_ccss_level_is_refused() -> None:
    error = refused(lambda d: control(d)["references"][1].update(levels=["IV"]))
    assert error.field == "controls[0] (id=KEY-01).references[1].levels[0]"


def test_an_id_outside_the_family_pattern_is_refused() -> None:
    error = refused(lambda d: control(d).update(id="XYZ-01"))
    assert error.field == "controls[0] (id=XYZ-01).id"
    error = refused(lambda d: control(d).update(id="KEY-1"))
    assert error.field == "controls[0] (id=KEY-1).id"


def test_a_nist_citation_that_is_not_an_800_53_id_is_refused() -> None:
    error = refused(lambda d: control(d)["references"][0].update(citation="GV.RR-01"))
    assert error.field == "controls[0] (id=KEY-01).references[0].citation"


def test_a_control_without_references_is_refused() -> None:
    error = refused(lambda d: control(d).update(references=[]))
    assert error.field == "controls[0] (id=KEY-01).references"


def test_a_verified_reference_without_a_source_is_refused() -> None:
    error = refused(lambda d: control(d)["references"][0].pop("source"))
    assert error.field == "controls[0] (id=KEY-01).references[0].source"


def test_a_source_not_listed_is_refused() -> None:
    error = refused(lambda d: control(d)["references"][0].update(source="nowhere"))
    assert error.field == "controls[0] (id=KEY-01).references[0].source"


def test_an_unverified_reference_without_a_note_is_refused() -> None:
    error = refused(lambda d: control(d)["references"][1].pop("note"))
    assert error.field == "controls[0] (id=KEY-01).references[1].note"


def test_an_unknown_decision_is_refused() -> None:
    error = refused(lambda d: control(d).update(decision="A"))
    assert error.field == "controls[0] (id=KEY-01).decision"


def test_an_unknown_field_is_refused() -> None:
    error = refused(lambda d: control(d).update(automation="A"))
    assert error.field == "controls[0] (id=KEY-01).automation"


def test_a_catalogue_error_is_bad_input_exit_2() -> None:
    error = refused(lambda d: control(d).update(id="bad"))
    assert isinstance(error, InputError)
    assert error.exit_code == 2


def test_an_invalid_control_cannot_be_built_outside_the_loader() -> None:
    reference = Reference(Framework.NIST, "AC-5", verified=False, note="n")
    with pytest.raises(CatalogueError):
        Control("KEY-01", "t", Decision.AUTOMATIC, ("d",), (reference,), rule=None)
    with pytest.raises(CatalogueError):
        Reference(Framework.CCSS, "1.02.1", verified=False, note="n")
