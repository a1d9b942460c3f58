"""The FSA's self-inspection items of 2024-09-26 answered from a run's findings (pure).

`fsa_items.yaml` lists the items that could be read (and says which could not), each with
the catalogue controls whose findings answer it. `answer(items, findings)` gives each item
a status from those findings — any control failing: ``fail``; any lacking evidence:
``insufficient_evidence``; all holding but a part only a person can state (`attestation`):
``manual``; all holding: ``pass``; nothing to apply them to: ``not_applicable`` — with the
answer in words and the evidence it rests on (each control's status and reason; the
failing rows and their digests are in the controls' findings). The jp report carries them
as ``self_inspection`` (docs/inspection.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from kinko.core.errors import InputError
from kinko.inspection.catalogue import Catalogue, Framework

REQUEST = (
    "FSA self-inspection request of 2024-09-26 "
    "(暗号資産の流出リスクへの対応等に関する注意喚起及び自主点検要請)"
)
_KEYS = {"id", "heading", "ja", "en", "read_in", "controls", "attestation"}


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    heading: str
    ja: str
    en: str
    read_in: str
    controls: tuple[str, ...]
    attestation: str | None = None


def parse_items(raw: object, catalogue: Catalogue) -> tuple[Item, ...]:
    """The items of `raw` (fsa_items.yaml's document); every control must be in the
    catalogue and mapped to jp, else an `InputError` naming the item and field."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("items"), list):
        raise InputError("fsa_items", "a mapping with a list of items")
    out = []
    for i, item in enumerate(raw["items"]):
        where = f"items[{i}]"
        if not isinstance(item, Mapping) or set(item) - _KEYS:
            raise InputError(where, f"a mapping of {', '.join(sorted(_KEYS))}")
        for key in ("id", "heading", "ja", "en", "read_in"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise InputError(f"{where}.{key}", "non-empty text")
        controls = item.get("controls")
        if not isinstance(controls, list) or not controls:
            raise InputError(f"{where}.controls", "a list of at least one control id")
        for n, control in enumerate(controls):
            known = next((c for c in catalogue.controls if c.id == control), None)
            if known is None or not known.references_for(Framework.JP):
                raise InputError(f"{where}.controls[{n}]", f"{control!r} is no jp control")
        attestation = item.get("attestation")
        if attestation is not None and not isinstance(attestation, str):
            raise InputError(f"{where}.attestation", "text, or absent")
        out.append(Item(item["id"], item["heading"], item["ja"], item["en"], item["read_in"],
                        tuple(controls), attestation))  # fmt: skip
    return tuple(out)


@cache
def _packaged_raw() -> Any:
    text = resources.files("kinko.inspection").joinpath("fsa_items.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def packaged_items(catalogue: Catalogue) -> tuple[Item, ...]:
    return parse_items(_packaged_raw(), catalogue)


def _status(statuses: Sequence[str], attestation: str | None) -> str:
    if "fail" in statuses:
        return "fail"
    if any(s in ("insufficient_evidence", "manual", "missing") for s in statuses):
        return "insufficient_evidence"
    if all(s == "not_applicable" for s in statuses):
        return "not_applicable"
    return "manual" if attestation else "pass"


def _words(status: str, item: Item, by_status: Mapping[str, list[str]]) -> str:
    def ids(*statuses: str) -> str:
        return ", ".join(c for s in statuses for c in by_status.get(s, []))

    if status == "fail":
        return f"No: the evidence shows it not held ({ids('fail')} fail)."
    if status == "insufficient_evidence":
        lacking = ids("insufficient_evidence", "manual", "missing")
        return f"Not shown: Kinko's evidence cannot decide it ({lacking} lack evidence)."
    if status == "not_applicable":
        return "Nothing to apply it to in the period."
    held = ids("pass", "not_applicable")
    if status == "manual":
        return f"Kinko's evidence holds ({held}); the rest is a person's: {item.attestation}."
    return f"Yes: the evidence shows it held ({held} pass)."


def answer(items: Sequence[Item], findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each item's status, answer and evidence, from the report's findings (JSON form)."""
    by_id = {f["control"]: f for f in findings}
    out = []
    for item in items:
        evidence = []
        by_status: dict[str, list[str]] = {}
        for control in item.controls:
            f = by_id.get(control)
            status = "missing" if f is None else str(f["status"])
            by_status.setdefault(status, []).append(control)
            evidence.append({
                "control": control,
                "status": "insufficient_evidence" if f is None else status,
                "reason": "not in this report" if f is None else f["reason"],
                "failures": 0 if f is None else len(f["failures"]),
                "days": 0 if f is None else len(f["evidence"]),
            })  # fmt: skip
        status = _status(list(by_status), item.attestation)
        out.append({
            "item": item.id, "heading": item.heading, "ja": item.ja, "en": item.en,
            "read_in": item.read_in, "status": status,
            "answer": _words(status, item, by_status), "attestation": item.attestation,
            "evidence": evidence,
        })  # fmt: skip
    return out
