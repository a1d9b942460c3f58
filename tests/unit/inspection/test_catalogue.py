"""The packaged control catalogue loads, keeps the draft's ids, and maps every control."""

from __future__ import annotations

import re

import yaml

from kinko.inspection.catalogue import (
    NIST_ID,
    CcssLevel,
    Decision,
    Framework,
    SourceKind,
    packaged,
    packaged_text,
)

# The draft (../shared/reference/controls-catalog.yaml) in its own order: 47 controls.
DRAFT_IDS = (  # noqa: SIM905 (one line per family reads better than 47 literals)
    "CUS-01 CUS-02 CUS-03 CUS-04 CUS-05 CUS-06 CUS-07 CUS-08 CUS-09 CUS-10 "
    "KEY-01 KEY-02 KEY-03 KEY-04 KEY-05 KEY-06 KEY-07 KEY-08 KEY-09 "
    "TXN-01 TXN-02 TXN-03 TXN-04 IAM-01 IAM-02 IAM-03 IAM-04 IAM-05 IAM-06 IAM-07 IAM-08 "
    "LOG-01 LOG-02 LOG-03 MON-01 MON-02 AML-01 AML-02 HR-01 GOV-01 GOV-02 GOV-03 "
    "TRN-01 IR-01 VUL-01 CHG-01 SAN-01"
).split()

# The draft's automation codes: A -> automatic, P -> evidence_dated.
EVIDENCE_DATED = {
    "CUS-09", "KEY-05", "KEY-07", "KEY-09", "TXN-04", "IAM-05", "IAM-08",
    "HR-01", "GOV-01", "GOV-03", "IR-01", "VUL-01", "SAN-01", "GOV-04",
}  # fmt: skip
# Added by Kinko after the draft: vendor reviews (the governance register's vendors).
ADDED_AFTER = {"GOV-03": "GOV-04"}


def test_the_packaged_catalogue_loads_with_the_drafts_ids_in_order() -> None:
    catalogue = packaged()
    expected = [i for d in DRAFT_IDS for i in (d, ADDED_AFTER.get(d)) if i is not None]
    assert [c.id for c in catalogue.controls] == expected
    assert len(DRAFT_IDS) == 47 == len(set(DRAFT_IDS))


def test_the_package_data_ships_the_file_pip_install_copies() -> None:
    # pyproject's package-data globs **/*.yaml under kinko: the file is read as package data.
    assert "CUS-01" in packaged_text()


def test_decisions_follow_the_drafts_automation_codes() -> None:
    for control in packaged().controls:
        expected = Decision.EVIDENCE_DATED if control.id in EVIDENCE_DATED else Decision.AUTOMATIC
        assert control.decision is expected, control.id


def test_every_control_maps_to_at_least_one_framework_and_has_a_rule() -> None:
    for control in packaged().controls:
        assert control.frameworks() & set(Framework), control.id
        assert control.rule, control.id
        assert control.data, control.id


def test_every_ccss_reference_names_a_level_and_every_nist_id_is_an_800_53_id() -> None:
    references = [r for c in packaged().controls for r in c.references]
    ccss = [r for r in references if r.framework is Framework.CCSS]
    nist = [r for r in references if r.framework is Framework.NIST]
    assert ccss and nist
    for reference in ccss:
        assert reference.levels and set(reference.levels) <= set(CcssLevel), reference
    for reference in nist:
        assert NIST_ID.match(reference.citation), reference.citation
        assert not reference.levels
    # What the draft had that is not SP 800-53 (CSF 2.0's GV.RR-xx, ID.IM-xx) is no nist id.
    assert not [r for r in nist if re.match(r"^(GV|ID|PR|DE|RS|RC)\.", r.citation)]


def test_every_reference_says_whether_and_against_what_it_was_verified() -> None:
    catalogue = packaged()
    for control in catalogue.controls:
        for reference in control.references:
            if reference.verified:
                assert reference.source is not None
                assert catalogue.sources[reference.source.key] is reference.source
            else:
                assert reference.note and reference.note.strip(), (control.id, reference)
    assert {s.kind for s in catalogue.sources.values()} <= set(SourceKind)


def test_organisation_defined_parameters_are_marked_and_regulatory_ones_are_not() -> None:
    catalogue = packaged()
    cold = {p.name: p for p in catalogue.control("CUS-01").parameters}
    assert cold["max_non_cold_share"].value == 0.05
    assert cold["max_non_cold_share"].organisation_defined is False
    dormant = {p.name: p for p in catalogue.control("IAM-06").parameters}
    assert dormant["max_inactivity"].organisation_defined is True
    assert dormant["max_inactivity"].unit == "days"


def test_the_yaml_lists_exactly_the_controls_the_loader_returns() -> None:
    raw = yaml.safe_load(packaged_text())
    assert [c["id"] for c in raw["controls"]] == [c.id for c in packaged().controls]
