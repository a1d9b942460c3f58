"""Re-exporting into a directory a witness cosigned: keep its cosignatures, never drop them.

`kinko audit witness cosign DIR` adds its cosignature line to ``DIR/checkpoint``. A later
`kinko audit export DIR` writes the log's newest checkpoint there:

- the same checkpoint (no entry since): the witnesses' lines are kept on it;
- a newer one of the same log: the cosigned one is kept as ``DIR/cosigned/checkpoint.<size>``
  (a witness cosigns the new one on its next run; an auditor still has the old proof);
- anything else (another log's directory, an older or a forked checkpoint) is refused
  before a file is written, naming why.

Only signature lines by other keys than the log's are cosignatures; standard library and
`cryptography` only (as the rest of the offline audit code).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kinko.audit.checkpoint import Checkpoint, parse_body
from kinko.audit.note import Note, Signature, parse_note
from kinko.core.errors import Conflict, IntegrityError, KinkoError

ARCHIVE = "cosigned"


@dataclass(frozen=True, slots=True)
class KeepPlan:
    """What to write: the checkpoint note, and an earlier cosigned one to keep (or None)."""

    note: str
    archive: tuple[Path, str] | None
    kept: tuple[str, ...]  # names of the witnesses whose cosignatures are kept


def plan_keep(directory: Path, note: str) -> KeepPlan:
    """Decide how `note` (the log-signed checkpoint to export) goes into `directory`."""
    path = directory / "checkpoint"
    if not path.exists():
        return KeepPlan(note, None, ())
    new, (old, before) = parse_note(note), _existing(path)
    after = parse_body(new.text)
    ours = {(s.name, s.key_id) for s in new.signatures}
    cosignatures = tuple(
        s for s in old.signatures if (s.name, s.key_id) not in ours and s.name != before.origin
    )
    if not cosignatures:
        return KeepPlan(note, None, ())
    names = tuple(sorted({s.name for s in cosignatures}))
    if old.text == new.text:
        return KeepPlan(Note(new.text, (*new.signatures, *cosignatures)).render(), None, names)
    where = f"{directory} holds a checkpoint cosigned by {', '.join(names)}"
    if before.origin != after.origin:
        raise Conflict(
            f"{where} for another log ({before.origin!r}, not {after.origin!r}); export "
            "into an empty directory",
            code="export_cosigned",
        )
    if before.size > after.size:
        raise Conflict(
            f"{where} at size {before.size}, beyond this log's {after.size}: this is not the "
            "directory of this log's exports (or the log lost entries); export elsewhere",
            code="export_cosigned",
        )
    if before.size == after.size:
        raise IntegrityError(
            f"{where} at size {before.size} with another root hash than this log's: the "
            "log and this directory disagree; export elsewhere and investigate"
        )
    target = directory / ARCHIVE / f"checkpoint.{before.size}"
    return KeepPlan(note, (target, _merged(target, old)), names)


def apply_archive(plan: KeepPlan) -> None:
    """Write the earlier cosigned checkpoint `plan` keeps (before the new one replaces it)."""
    if plan.archive is None:
        return
    target, text = plan.archive
    target.parent.mkdir(exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)


def cosigners(directory: Path, origin: str) -> tuple[str, ...]:
    """Names of the keys other than the log's (`origin`) that signed ``DIR/checkpoint``."""
    note, _ = _existing(directory / "checkpoint")
    return tuple(sorted({s.name for s in note.signatures if s.name != origin}))


def _existing(path: Path) -> tuple[Note, Checkpoint]:
    try:
        note = parse_note(path.read_bytes())
        return note, parse_body(note.text)
    except (OSError, KinkoError) as exc:
        reason = exc.message if isinstance(exc, KinkoError) else str(exc)
        raise Conflict(
            f"{path} is not a checkpoint Kinko can read ({reason}); export into an empty "
            "directory or a previous export of this log",
            code="export_cosigned",
        ) from None


def _merged(target: Path, old: Note) -> str:
    """`old`, with the signature lines an earlier archive of the same checkpoint had."""
    if not target.exists():
        return old.render()
    archived, _ = _existing(target)
    if archived.text != old.text:
        raise IntegrityError(
            f"{target} holds another checkpoint of the same size: the directory disagrees "
            "with itself; export elsewhere and investigate"
        )
    seen: set[tuple[str, bytes]] = set()
    lines: list[Signature] = []
    for signature in (*archived.signatures, *old.signatures):
        if (signature.name, signature.key_id) not in seen:
            seen.add((signature.name, signature.key_id))
            lines.append(signature)
    return Note(old.text, tuple(lines)).render()
