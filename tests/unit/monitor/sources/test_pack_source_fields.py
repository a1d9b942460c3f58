"""No default rule on an outside source tests a field that source does not emit (issue #15,
point 5). Kinko's own events are checked the same way by
tests/integration/monitor/test_pack_fields.py, which runs Kinko's real flows; here every
sample of every mapped source (tests/fixtures/sources) is parsed, and each selection,
group-by and value field of a rule whose logsource is not Kinko's must appear on some event
of that logsource."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from sigma.collection import SigmaCollection
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import SigmaFieldReference

from kinko.monitor.rules import CorrelationRule, DetectionRule, default_pack
from kinko.monitor.sigma_compile import canonical_field
from kinko.monitor.sources import SOURCES, parse_source
from kinko.monitor.sources import pipeline as sources_pipeline

SAMPLES = Path(__file__).parents[3] / "fixtures" / "sources"
ALWAYS = frozenset({"time", "time.hour", "type", "severity", "origin"})
SAMPLE_FILES = {
    "cloudtrail": "cloudtrail",
    "okta": "okta",
    "entra-signin": "entra/signin-*",
    "entra-audit": "entra/audit-*",
    "github": "github",
    "workspace-login": "workspace",
    "auditd": "auditd",
    "sshd": "sshd",
    "kubernetes": "kubernetes",
}


def emitted_by_logsource() -> dict[tuple[str, str | None], set[str]]:
    out: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for name, pattern in SAMPLE_FILES.items():
        folder, _, glob = pattern.partition("/")
        files = sorted((SAMPLES / folder).glob(glob or "*"))
        files = [f for f in files if f.suffix in (".json", ".jsonl", ".log")]
        assert files, name
        source = SOURCES[name]
        for file in files:
            for event in parse_source(source, file.read_text(encoding="utf-8")):
                out[source.logsource[:2]].update(event.flat())
    return out


def _leaves(detection: SigmaDetection) -> Iterator[SigmaDetectionItem]:
    for item in detection.detection_items:
        if isinstance(item, SigmaDetection):
            yield from _leaves(item)
        else:
            yield item


def outside_rule_fields() -> Iterator[tuple[str, str]]:
    """(rule id, field) for every field a pack rule on an outside logsource tests, as the
    engine reads it (the sources' pipeline applied, ECS/OCSF aliases resolved)."""
    folder = resources.files("kinko.monitor") / "rules"
    texts = [e.read_text(encoding="utf-8") for e in folder.iterdir() if e.name.endswith(".yml")]
    for text in texts:
        for rule in SigmaCollection.from_yaml(text).rules:
            if not isinstance(rule, SigmaRule) or rule.logsource.product in (None, "kinko"):
                continue
            sources_pipeline.apply(rule)
            for detection in rule.detection.detections.values():
                for item in _leaves(detection):
                    assert item.field is not None
                    yield str(rule.name), canonical_field(item.field)
                    for value in item.value:
                        if isinstance(value, SigmaFieldReference):
                            yield str(rule.name), canonical_field(value.field)


def test_every_outside_rule_field_is_one_its_source_emits() -> None:
    pack = default_pack()
    produced = emitted_by_logsource()
    outside = {
        r.id: r.logsource[:2] for r in pack.detections if r.logsource[0] not in (None, "kinko")
    }
    assert len(outside) >= 8
    checked = []
    for rule_id, field in outside_rule_fields():
        if field in ALWAYS:
            continue
        checked.append(field)
        assert outside[rule_id] in produced, outside[rule_id]
        assert field in produced[outside[rule_id]], f"{rule_id}: {field} is never emitted"
    by_id = dict(pack.by_id)
    for corr in pack.correlations:
        for source in corr.sources:
            rule = by_id[source]
            if not isinstance(rule, DetectionRule) or rule.id not in outside:
                continue
            names = [corr.group_field(g, source) for g in corr.group_by]
            for name in names + ([corr.value_field] if corr.value_field else []):
                checked.append(name)
                assert name in produced[outside[rule.id]], f"{corr.id} <- {source}: {name}"
    assert "authenticationContext.externalSessionId" in checked  # a group-by was seen
    assert "debugContext.debugData.behaviors" in checked
    assert isinstance(pack.by_id["kinko-okta-session-two-countries"], CorrelationRule)
