"""OSCAL assessment results from the JSON inspection report, built with compliance-trestle's
models (never hand-written JSON) and validated by trestle's validators.

One result for the run's period; per control an observation (how it was decided, the
evidence: each snapshot day with its digest, each failing row's digest) and a finding
whose target is the control's objective with the OSCAL state: ``pass`` is satisfied,
every other status not satisfied (reason ``fail``, or ``other`` with Kinko's status in the
``kinko-status`` property: missing evidence is never satisfied). The JSON report is a
back-matter resource with its SHA-256. UUIDs are derived from the report's digest (UUID
v5) and the times from the period, so the same JSON gives the same OSCAL.
trestle is imported inside the functions: it is heavy.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from kinko.inspection.html_report import parse

NS = "https://kinko.example/ns/oscal"
KINKO_UUID = uuid.UUID("7b0c6d1e-55b4-4f0e-9a53-6b1c3e1d0f16")
METHODS = {"automatic": "TEST", "evidence_dated": "EXAMINE", "manual": "INTERVIEW"}


def build(encoded: bytes, name: str) -> Any:
    """The `AssessmentResults` model of the JSON report `encoded` (file `name`)."""
    from trestle.oscal import OSCAL_VERSION
    from trestle.oscal import assessment_results as ar
    from trestle.oscal import common as c

    report = parse(encoded)
    digest = hashlib.sha256(encoded).hexdigest()

    def uid(*parts: str) -> str:
        return str(uuid.uuid5(KINKO_UUID, "/".join((digest, *parts))))

    def prop(key: str, value: str) -> Any:
        return c.Property(name=key, value=value, ns=NS)

    start = datetime.combine(date.fromisoformat(report["period"]["from"]), time(), UTC)
    end = datetime.combine(date.fromisoformat(report["period"]["to"]), time.max, UTC)
    end = end.replace(microsecond=0)
    source = uid("report")
    observations, findings, controls = [], [], []
    for f in report["findings"]:
        control = f["control"]
        controls.append(c.SelectControlById(control_id=control.lower()))
        evidence = (
            [
                c.RelevantEvidence(
                    href=f"#{source}",
                    description=f"daily evidence snapshots, {len(f['evidence'])} days: "
                    + ", ".join(f["evidence"][:3])
                    + (" ..." if len(f["evidence"]) > 3 else ""),
                )
            ]
            if f["evidence"]
            else []
        )
        for failure in f["failures"]:
            rows = "; ".join(f"{r['path']} sha256:{r['digest']}" for r in failure["rows"])
            evidence.append(
                c.RelevantEvidence(
                    href=f"#{source}",
                    description=f"{failure['from']}..{failure['to']}: {failure['check']} "
                    f"{failure['value']} (limit {failure['limit']}). {failure['detail']}"
                    + (f" Rows: {rows}" if rows else ""),
                )
            )
        observation = c.Observation(
            uuid=uid("observation", control),
            title=f"{control} {f['title']}",
            description=f["reason"] or f["status"],
            methods=[METHODS[f["decision"]]],
            types=["finding"] if f["status"] == "fail" else None,
            relevant_evidence=evidence or None,
            collected=end,
            props=[prop("kinko-status", f["status"])],
        )
        observations.append(observation)
        status = f["status"]
        state = "satisfied" if status == "pass" else "not-satisfied"
        reason = {"pass": "pass", "fail": "fail"}.get(status, "other")
        findings.append(
            c.Finding(
                uuid=uid("finding", control),
                title=f"{control} {f['title']}",
                description=f["rule"] or f["reason"],
                props=[prop("kinko-status", status)],
                target=c.FindingTarget(
                    type=c.FindingTargetTypeValidValues.objective_id,
                    target_id=f"{control.lower()}_obj",
                    status=c.ObjectiveStatus(state=state, reason=reason),
                ),
                related_observations=[c.RelatedObservation(observation_uuid=observation.uuid)],
            )
        )
    result = ar.Result(
        uuid=uid("result"),
        title=f"Kinko self-inspection, {report['framework']}",
        description=f"Controls of catalogue {report['catalogue']} decided over "
        f"{report['period']['from']}..{report['period']['to']} from Kinko's daily evidence.",
        start=start,
        end=end,
        props=[prop("summary-" + k, str(v)) for k, v in report["summary"].items()],
        reviewed_controls=c.ReviewedControls(
            control_selections=[c.ControlSelections(include_controls=controls)]
        ),
        observations=observations or None,
        findings=findings or None,
    )
    resource = c.Resource(
        uuid=source,
        title=f"Kinko inspection report {name}",
        description=f"The JSON report ({report['schema']}) this document was built from.",
        rlinks=[
            c.Rlink(
                href=name,
                media_type="application/json",
                hashes=[c.Hash(algorithm="SHA-256", value=digest)],
            )
        ],
    )
    return ar.AssessmentResults(
        uuid=uid("assessment-results"),
        metadata=c.Metadata(
            title=f"Kinko self-inspection {report['framework']} "
            f"{report['period']['from']}..{report['period']['to']}",
            last_modified=end,
            version=report["catalogue"],
            oscal_version=OSCAL_VERSION,
        ),
        import_ap=ar.ImportAp(href=f"#{source}", remarks="Kinko's control catalogue is the plan."),
        results=[result],
        back_matter=c.BackMatter(resources=[resource]),
    )


def encode(model: Any) -> bytes:
    """``{"assessment-results": ...}`` as OSCAL JSON (aliases, no nulls), sorted keys."""
    data = json.loads(model.oscal_serialize_json(pretty=False))
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


def validate(data: bytes) -> Any:
    """Parse OSCAL assessment results with trestle's model and run all of trestle's
    validators; raise `InputError` naming what fails. Returns the model."""
    import argparse

    from pydantic import ValidationError
    from trestle.core.validator_factory import validator_factory
    from trestle.oscal.assessment_results import AssessmentResults

    from kinko.core.errors import InputError

    try:
        document = json.loads(data)
        model = AssessmentResults.model_validate(document["assessment-results"])
    except (ValueError, KeyError, ValidationError) as exc:
        raise InputError("oscal", f"not valid OSCAL assessment results: {exc}") from None
    validator = validator_factory.get(argparse.Namespace(mode="all"))
    if not validator.model_is_valid(model, True, None):
        raise InputError("oscal", f"trestle refuses it: {validator.error_msg()}")
    return model
