"""Governance-register files: the changes a CSV or YAML file proposes (pure; reads the
file its caller names).

- **CSV** (``.csv``): a header row of field names, one record per row; every row is of the
  kind ``--kind`` names, or of its own ``kind`` column. Values are text as
  `kinko.inspection.register_changes.parse_record` reads them (lists ``a;b;c``, findings a
  JSON list in their cell, an empty cell is an optional field left out).
- **YAML** (``.yaml``/``.yml``): either ``{changes: [{op, kind, record | key}, ...]}`` (the
  API's body) or a mapping of kind to a list of records (``vendor: [{name: ..., ...}]``).

Every row is parsed before anything is sent; a bad one is refused naming the file, its
line (CSV) or position (YAML) and the field. The whole file becomes one proposal.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from kinko.core.errors import InputError
from kinko.core.textfile import csv_rows, read_text
from kinko.inspection.register import Kind, parse_kind
from kinko.inspection.register_changes import (
    MAX_CHANGES,
    Change,
    parse_changes,
    parse_record,
)


def read_changes(path: Path, *, kind: str | None = None) -> list[dict[str, Any]]:
    """The changes (API JSON) the file at `path` proposes, each checked."""
    text = read_text(path, field="file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        changes = csv_changes(text, name=path.name, kind=kind)
    elif suffix in (".yaml", ".yml"):
        if kind is not None:
            raise InputError("--kind", "a YAML file names the kind of each record itself")
        changes = yaml_changes(text, name=path.name)
    else:
        raise InputError("file", f"{path.name}: use a .csv, .yaml or .yml file")
    return [c.to_json() for c in changes]


def csv_changes(text: str, *, name: str, kind: str | None) -> tuple[Change, ...]:
    fixed: Kind | None = None if kind is None else parse_kind(kind, field="--kind")
    rows = csv_rows(text, field="file", name=name)
    header = [h.strip() for h in next(rows, [])]
    if not header or not any(header):
        raise InputError("file", f"{name}: the first line names the fields")
    if fixed is None and "kind" not in header:
        raise InputError("--kind", f"{name} has no kind column: give --kind")
    changes: list[dict[str, Any]] = []
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{name}:{line}"
        if len(row) != len(header):
            raise InputError(where, f"{len(row)} cells, the header names {len(header)}")
        cells = dict(zip(header, row, strict=True))
        row_kind = fixed or parse_kind(cells.get("kind", ""), field=f"{where}.kind")
        cells.pop("kind", None)
        record = parse_record(row_kind, cells, where=where)
        changes.append(Change.put(record).to_json())
    return _checked(changes, name)


def yaml_changes(text: str, *, name: str) -> tuple[Change, ...]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError("file", f"{name}: not YAML ({exc})") from None
    if not isinstance(doc, Mapping):
        raise InputError("file", f"{name}: a mapping (changes: [...], or kind: [records])")
    if "changes" in doc:
        items = doc["changes"]
        if not isinstance(items, list):
            raise InputError("changes", f"{name}: a list of changes")
        return parse_changes(items, where="changes")
    changes: list[dict[str, Any]] = []
    for key, records in doc.items():
        chosen = parse_kind(key, field=str(key))
        if not isinstance(records, list):
            raise InputError(str(key), f"{name}: a list of {chosen.value} records")
        for i, data in enumerate(records):
            record = parse_record(chosen, data, where=f"{key}[{i}]")
            changes.append(Change.put(record).to_json())
    return _checked(changes, name)


def _checked(changes: list[dict[str, Any]], name: str) -> tuple[Change, ...]:
    if not changes:
        raise InputError("file", f"{name} holds no records")
    if len(changes) > MAX_CHANGES:
        raise InputError("file", f"{name}: at most {MAX_CHANGES} records in one proposal")
    return parse_changes(changes, where=name)
