"""Reading the monitor's input for `kinko monitor ingest`, `replay` and `rules test`:
Kinko's own JSON Lines events, or with ``--source NAME`` a vendor's log mapped by
`kinko.monitor.sources` (docs/monitor.md, "Real sources"). Files, ``.gz`` files, or ``-``
for stdin; all or nothing, errors name the line or record (exit 2)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kinko.core.errors import InputError

if TYPE_CHECKING:
    from kinko.monitor.events import MonitorEvent

SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source",
        help="Vendor log the file holds (cloudtrail, okta, entra-signin, entra-audit, github, "
        "workspace-login, auditd, sshd, kubernetes); default: Kinko's JSON Lines events.",
    ),
]


def read_events(source: str, vendor: str | None = None) -> list[MonitorEvent]:
    """Events from a file or ``-`` (stdin): Kinko's JSON Lines, or with `vendor` that
    vendor's log (``.gz`` files too); all-or-nothing, errors name the line or record."""
    from kinko.monitor.events import parse_jsonl

    if vendor is not None:
        from kinko.monitor.sources import parse_source, source_named

        mapping = source_named(vendor, field="--source")
        return parse_source(mapping, read_text(source))
    if source == "-":
        return parse_jsonl(sys.stdin)
    path = Path(source)
    try:
        with path.open(encoding="utf-8") as handle:
            return parse_jsonl(handle)
    except OSError as exc:
        raise InputError(source, f"cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(source, "is not UTF-8 text") from None


def read_text(source: str) -> str:
    import gzip

    try:
        if source == "-":
            return sys.stdin.read()
        if source.endswith(".gz"):
            with gzip.open(source, "rt", encoding="utf-8") as handle:
                return handle.read()
        return Path(source).read_text(encoding="utf-8")
    except gzip.BadGzipFile:
        raise InputError(source, "is not a gzip file; name it without .gz") from None
    except (OSError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or "truncated"
        raise InputError(source, f"cannot be read: {reason}") from None
    except UnicodeDecodeError:
        raise InputError(source, "is not UTF-8 text") from None
