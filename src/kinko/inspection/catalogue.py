"""The control catalogue (``controls.yaml``): parsed into values that cannot be wrong.

Pure: takes the YAML text (or reads the packaged file) and returns a `Catalogue` or raises
`CatalogueError` naming the control and the field, e.g.
``controls[3] (id=CUS-04).references[1].levels: a ccss reference names its level(s)``.
Every invariant is checked where the value is built (``__post_init__``), so an invalid
`Control`, `Reference` or `Parameter` cannot exist, whoever builds it. Nothing half-loaded
is ever returned. The format is documented in ``docs/inspection.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import yaml

from kinko.core.errors import ConfigError


class CatalogueError(ConfigError):
    """The catalogue breaks a rule; `field` names the control and the field."""

    code = "invalid_catalogue"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.reason = reason


class Framework(StrEnum):
    JP = "jp"
    KR = "kr"
    CCSS = "ccss"
    NIST = "nist"


class Decision(StrEnum):
    """How a control is decided: from Kinko's data, from dated evidence, or by a person."""

    AUTOMATIC = "automatic"
    EVIDENCE_DATED = "evidence_dated"
    MANUAL = "manual"


class CcssLevel(StrEnum):
    I = "I"  # noqa: E741 (the standard's own name for the level)
    II = "II"
    III = "III"


class SourceKind(StrEnum):
    PRIMARY = "primary"  # the issuer's own text
    MIRROR = "mirror"  # the text, copied by a third party
    SECONDARY = "secondary"  # press, law firms, blogs quoting or summarising it


FAMILIES = (
    "CUS",
    "KEY",
    "TXN",
    "IAM",
    "LOG",
    "MON",
    "AML",
    "HR",
    "GOV",
    "TRN",
    "IR",
    "VUL",
    "CHG",
    "SAN",
)
CONTROL_ID = re.compile(r"^(" + "|".join(FAMILIES) + r")-[0-9]{2}$")
# SP 800-53 rev5: family, number, optional enhancement: AC-2, AC-2(3), AU-9(4).
NIST_ID = re.compile(r"^[A-Z]{2}-[1-9][0-9]?(\([1-9][0-9]?\))?$")
SOURCE_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def _require_text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(where, "must be non-empty text")
    return value


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str
    kind: SourceKind

    def __post_init__(self) -> None:
        if not SOURCE_KEY.match(self.key):
            raise CatalogueError(f"sources.{self.key}", "a source key is lowercase a-z, 0-9, '-'")
        _require_text(self.title, f"sources.{self.key}.title")
        _require_text(self.url, f"sources.{self.key}.url")


@dataclass(frozen=True)
class Reference:
    """Where a framework asks for the control, and whether that was checked.

    A verified reference names the `source` it was checked against; an unverified one says
    why in `note`. A ccss reference names its level(s); no other does. A nist reference is
    one SP 800-53 control id.
    """

    framework: Framework
    citation: str
    verified: bool
    source: Source | None = None
    where: str | None = None
    note: str | None = None
    levels: tuple[CcssLevel, ...] = ()

    def __post_init__(self) -> None:
        _require_text(self.citation, "citation")
        if self.framework is Framework.CCSS and not self.levels:
            raise CatalogueError("levels", "a ccss reference names its level(s): I, II or III")
        if self.framework is not Framework.CCSS and self.levels:
            raise CatalogueError(
                "levels", f"only a ccss reference has levels, not {self.framework}"
            )
        if len(set(self.levels)) != len(self.levels):
            raise CatalogueError("levels", "a level is named twice")
        if self.framework is Framework.NIST and not NIST_ID.match(self.citation):
            raise CatalogueError(
                "citation", f"{self.citation!r} is not an SP 800-53 id (e.g. AC-2, AC-2(3))"
            )
        if self.verified and self.source is None:
            raise CatalogueError(
                "source", "a verified reference names the source it was checked against"
            )
        if not self.verified and not (self.note and self.note.strip()):
            raise CatalogueError("note", "an unverified reference says why in `note`")


@dataclass(frozen=True)
class Parameter:
    """A number a rule uses. `organisation_defined`: chosen by the exchange, not a regulator."""

    name: str
    value: int | float | str
    unit: str
    organisation_defined: bool
    note: str | None = None

    def __post_init__(self) -> None:
        if not re.match(r"^[a-z][a-z0-9_]{0,63}$", self.name):
            raise CatalogueError("name", f"{self.name!r}: lowercase letters, digits and '_'")
        if (
            isinstance(self.value, bool)
            or not isinstance(self.value, int | float | str)
            or self.value == ""
        ):
            raise CatalogueError("value", "a parameter has a value (a number or text)")
        _require_text(self.unit, "unit")
        if not isinstance(self.organisation_defined, bool):
            raise CatalogueError("organisation_defined", "must be true or false")


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    decision: Decision
    data: tuple[str, ...]
    references: tuple[Reference, ...]
    rule: str | None = None
    parameters: tuple[Parameter, ...] = ()
    see_also: tuple[str, ...] = ()
    note: str | None = None

    def __post_init__(self) -> None:
        if not CONTROL_ID.match(self.id):
            raise CatalogueError(
                "id", f"{self.id!r} is not FAMILY-NN, FAMILY one of {', '.join(FAMILIES)}"
            )
        _require_text(self.title, "title")
        if self.decision is not Decision.MANUAL and not (self.rule and self.rule.strip()):
            raise CatalogueError("rule", f"an {self.decision} control states its rule")
        if not self.data or not all(isinstance(d, str) and d for d in self.data):
            raise CatalogueError("data", "name the data the control needs (a non-empty list)")
        if not self.references:
            raise CatalogueError("references", "a control maps to at least one framework")
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise CatalogueError("parameters", "a parameter name is used twice")

    @property
    def family(self) -> str:
        return self.id.split("-")[0]

    def references_for(self, framework: Framework) -> tuple[Reference, ...]:
        return tuple(r for r in self.references if r.framework is framework)

    def frameworks(self) -> frozenset[Framework]:
        return frozenset(r.framework for r in self.references)


@dataclass(frozen=True)
class Catalogue:
    version: str
    sources: Mapping[str, Source]
    controls: tuple[Control, ...]
    _by_id: Mapping[str, Control] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Control] = {}
        for index, control in enumerate(self.controls):
            if control.id in by_id:
                raise CatalogueError(f"controls[{index}] (id={control.id}).id", "duplicate id")
            by_id[control.id] = control
        object.__setattr__(self, "_by_id", by_id)

    def control(self, control_id: str) -> Control:
        try:
            return self._by_id[control_id]
        except KeyError:
            raise CatalogueError("id", f"no control {control_id!r} in the catalogue") from None

    def for_framework(self, framework: Framework | None) -> tuple[Control, ...]:
        """The controls mapped to `framework` (all of them for None), in catalogue order."""
        if framework is None:
            return self.controls
        return tuple(c for c in self.controls if framework in c.frameworks())


# ------------------------------------------------------------------------------- parsing

_TOP_KEYS = {"version", "sources", "controls"}
_SOURCE_KEYS = {"title", "url", "kind"}
_CONTROL_KEYS = {
    "id",
    "title",
    "decision",
    "data",
    "rule",
    "parameters",
    "references",
    "see_also",
    "note",
}
_REFERENCE_KEYS = {"framework", "citation", "verified", "source", "where", "note", "levels"}
_PARAMETER_KEYS = {"name", "value", "unit", "organisation_defined", "note"}


def _mapping(raw: object, where: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise CatalogueError(where, "must be a mapping")
    unknown = sorted(set(map(str, raw)) - allowed)
    if unknown:
        raise CatalogueError(
            f"{where}.{unknown[0]}", f"unknown field; allowed: {', '.join(sorted(allowed))}"
        )
    for key in sorted(required):
        if key not in raw or raw[key] is None:
            raise CatalogueError(f"{where}.{key}", "is required")
    return raw


def _list(raw: object, where: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise CatalogueError(where, "must be a list")
    return raw


def _optional_text(raw: object, where: str) -> str | None:
    return None if raw is None else _require_text(raw, where)


E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


def _enum(kind: type[E], raw: object, where: str) -> E:
    try:
        return kind(str(raw))
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise CatalogueError(where, f"{raw!r} is not one of: {allowed}") from None


def _located(at: str, build: Callable[..., T], /, **fields: Any) -> T:
    """Build a value; a CatalogueError from its own checks is re-raised under `at`."""
    try:
        return build(**fields)
    except CatalogueError as exc:
        raise CatalogueError(f"{at}.{exc.field}", exc.reason) from None


def _source(key: object, raw: object) -> Source:
    where = f"sources.{key}"
    body = _mapping(raw, where, _SOURCE_KEYS, _SOURCE_KEYS)
    return Source(
        key=str(key),
        title=_require_text(body["title"], f"{where}.title"),
        url=_require_text(body["url"], f"{where}.url"),
        kind=_enum(SourceKind, body["kind"], f"{where}.kind"),
    )


def _reference(raw: object, where: str, sources: Mapping[str, Source]) -> Reference:
    body = _mapping(raw, where, _REFERENCE_KEYS, {"framework", "citation", "verified"})
    if not isinstance(body["verified"], bool):
        raise CatalogueError(f"{where}.verified", "must be true or false")
    source = None
    if body.get("source") is not None:
        key = str(body["source"])
        if key not in sources:
            raise CatalogueError(f"{where}.source", f"{key!r} is not listed under `sources`")
        source = sources[key]
    levels = tuple(
        _enum(CcssLevel, level, f"{where}.levels[{i}]")
        for i, level in enumerate(_list(body.get("levels"), f"{where}.levels"))
    )
    return _located(
        where,
        Reference,
        framework=_enum(Framework, body["framework"], f"{where}.framework"),
        citation=_require_text(body["citation"], f"{where}.citation"),
        verified=body["verified"],
        source=source,
        where=_optional_text(body.get("where"), f"{where}.where"),
        note=_optional_text(body.get("note"), f"{where}.note"),
        levels=levels,
    )


def _parameter(raw: object, where: str) -> Parameter:
    body = _mapping(raw, where, _PARAMETER_KEYS, {"name", "unit", "organisation_defined"})
    return _located(
        where,
        Parameter,
        name=str(body["name"]),
        value=body.get("value"),
        unit=str(body["unit"]),
        organisation_defined=body["organisation_defined"],
        note=_optional_text(body.get("note"), f"{where}.note"),
    )


def _control(raw: object, index: int, sources: Mapping[str, Source]) -> Control:
    where = f"controls[{index}]"
    if isinstance(raw, dict) and raw.get("id") is not None:
        where = f"{where} (id={raw['id']})"
    body = _mapping(raw, where, _CONTROL_KEYS, {"id", "title", "decision", "data", "references"})
    references = tuple(
        _reference(r, f"{where}.references[{i}]", sources)
        for i, r in enumerate(_list(body["references"], f"{where}.references"))
    )
    parameters = tuple(
        _parameter(p, f"{where}.parameters[{i}]")
        for i, p in enumerate(_list(body.get("parameters"), f"{where}.parameters"))
    )
    see_also = tuple(
        _require_text(s, f"{where}.see_also[{i}]")
        for i, s in enumerate(_list(body.get("see_also"), f"{where}.see_also"))
    )
    data = tuple(
        _require_text(d, f"{where}.data[{i}]")
        for i, d in enumerate(_list(body["data"], f"{where}.data"))
    )
    return _located(
        where,
        Control,
        id=str(body["id"]),
        title=_require_text(body["title"], f"{where}.title"),
        decision=_enum(Decision, body["decision"], f"{where}.decision"),
        data=data,
        references=references,
        rule=_optional_text(body.get("rule"), f"{where}.rule"),
        parameters=parameters,
        see_also=see_also,
        note=_optional_text(body.get("note"), f"{where}.note"),
    )


def parse_catalogue(text: str) -> Catalogue:
    """The catalogue in `text` (YAML), or CatalogueError naming the control and field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError("catalogue", f"not valid YAML: {exc}") from None
    top = _mapping(raw, "catalogue", _TOP_KEYS, _TOP_KEYS)
    raw_sources = top["sources"]
    if not isinstance(raw_sources, dict):
        raise CatalogueError("sources", "must be a mapping of key -> source")
    sources = {str(k): _source(k, v) for k, v in raw_sources.items()}
    raw_controls = _list(top["controls"], "controls")
    if not raw_controls:
        raise CatalogueError("controls", "the catalogue has no control")
    controls = tuple(_control(c, i, sources) for i, c in enumerate(raw_controls))
    return Catalogue(
        version=_require_text(str(top["version"]), "version"), sources=sources, controls=controls
    )


def packaged_text() -> str:
    return resources.files("kinko.inspection").joinpath("controls.yaml").read_text("utf-8")


@cache
def packaged() -> Catalogue:
    """The catalogue shipped with Kinko (src/kinko/inspection/controls.yaml)."""
    return parse_catalogue(packaged_text())
