"""``kinko register ...``: the governance register (self-inspection, docs/inspection.md).

Every command is a request to the API as the signed-in person (`kinko login`): reading
needs ``inspection:read`` (auditor, ciso), proposing and attaching ``register:write``
(security_admin, ciso). A change is a four-eyes proposal: `propose` makes one of one
change, `import` ONE proposal of the whole file (all rows or none); a second person
approves it with ``kinko role approve ID --assertion FILE``. Records are parsed here first,
so a bad row is named by file, line and field before anything is sent. Exit status: 0 ok,
1 refused or unreachable, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kinko.cli.common import console, echo_json
from kinko.cli.output import JsonOption, guarded_json, print_table
from kinko.core.errors import InputError

register_app = typer.Typer(
    help="The governance register: CISO, staff, training, drills, audits, vendors.",
    no_args_is_help=True,
)
ReasonOption = Annotated[
    str, typer.Option(help="Why (recorded with the proposal in the audit log).")
]
APPROVE_HINT = (
    "nothing changes until a second security_admin or ciso, signed in as themselves, runs "
    "'kinko role approve {id} --assertion FILE' (or 'kinko role refuse {id} --reason ...')"
)


def _said(proposal: dict[str, Any], what: str, as_json: bool) -> None:
    if as_json:
        echo_json(proposal)
        return
    console.print(
        f"proposed {what}: proposal {proposal['id']} is {proposal['state']} until "
        f"{proposal.get('expires_at')}; " + APPROVE_HINT.format(id=proposal["id"]),
        highlight=False,
        soft_wrap=True,
    )


def _post_changes(changes: list[dict[str, Any]], reason: str) -> dict[str, Any]:
    from kinko.cli import api

    with api.connect() as kinko:
        answer: dict[str, Any] = kinko.post(
            "/v1/register/proposals", {"changes": changes, "reason": reason}
        )
    return answer


@register_app.command("list")
def list_records(
    kind: Annotated[str | None, typer.Option(help="Only this kind (ciso, vendor, ...).")] = None,
    as_json: JsonOption = False,
) -> None:
    """The register's current records (removed ones left out)."""
    from kinko.cli import api
    from kinko.inspection.register import parse_kind

    with guarded_json(as_json):
        if kind is not None:
            parse_kind(kind, field="--kind")
        with api.connect() as kinko:
            found = kinko.get("/v1/register/records", params={"kind": kind})
    if as_json:
        echo_json(found)
        return
    rows = [
        (r["kind"], r["key"], str(r["version"]), r["digest"], r["approved_by"])
        for r in found["records"]
    ]
    print_table(("kind", "key", "version", "digest", "approved by"), rows, whole={"digest"})


@register_app.command("show")
def show(kind: str, key: str, as_json: JsonOption = False) -> None:
    """Every version of one record: what it said, who proposed and approved it."""
    from urllib.parse import quote

    from kinko.cli import api
    from kinko.inspection.register import parse_kind

    with guarded_json(as_json):
        parse_kind(kind, field="kind")
        with api.connect() as kinko:
            found = kinko.get(f"/v1/register/records/{kind}/{quote(key, safe='')}")
    if as_json:
        echo_json(found)
        return
    for v in found["versions"]:
        state = "removed" if v["removed"] else f"digest {v['digest']}"
        console.print(
            f"{kind} {key!r} version {v['version']} ({state}), proposal {v['proposal']} by "
            f"{v['proposed_by']}, approved by {v['approved_by']} at {v['recorded_at']}",
            highlight=False,
            soft_wrap=True,
        )
        if v["record"] is not None:
            for name, value in v["record"].items():
                console.print(f"  {name}: {value}", highlight=False, soft_wrap=True)


@register_app.command("propose")
def propose(  # noqa: PLR0917 - typer maps each parameter to an option
    kind: str,
    reason: ReasonOption,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field", "-f", help="name=value (repeatable; lists a;b;c, findings as JSON)."
        ),
    ] = None,
    attach: Annotated[
        list[Path] | None, typer.Option(help="A file to store and attach (repeatable).")
    ] = None,
    remove: Annotated[
        str | None, typer.Option(help="Remove the record of this key instead.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Propose one change: put a record from --field name=value, or --remove KEY."""
    from kinko.inspection.register import parse_kind
    from kinko.inspection.register_changes import Change, parse_record

    with guarded_json(as_json):
        chosen = parse_kind(kind, field="kind")
        if remove is not None:
            if field or attach:
                raise InputError("--remove", "a removal takes no --field or --attach")
            change = {"op": "remove", "kind": chosen.value, "key": remove}
            what = f"removing {chosen.value} {remove!r}"
        else:
            values: dict[str, Any] = {}
            for item in field or []:
                name, sep, value = item.partition("=")
                if not sep or not name.strip():
                    raise InputError("--field", f"{item!r} is not name=value")
                values[name.strip()] = value
            digests = [_upload(path)["sha256"] for path in attach or []]
            if digests:
                values["attachments"] = ";".join(digests)
            record = parse_record(chosen, values, where="--field")
            change = Change.put(record).to_json()
            what = f"{chosen.value} {record.key!r}"
        proposal = _post_changes([change], reason)
    _said(proposal, what, as_json)


@register_app.command("import")
def import_file(
    file: Path,
    reason: ReasonOption,
    kind: Annotated[
        str | None, typer.Option(help="The kind of every CSV row (else a kind column).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Propose every record of a CSV or YAML file as ONE proposal (all rows or none)."""
    from kinko.inspection.register_io import read_changes

    with guarded_json(as_json):
        changes = read_changes(file, kind=kind)
        proposal = _post_changes(changes, reason)
    _said(proposal, f"{len(changes)} change(s) from {file.name}", as_json)


def _upload(path: Path) -> dict[str, Any]:
    from kinko.cli import api

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError("--attach", f"cannot read {path}: {exc.strerror or exc}") from None
    with api.connect() as kinko:
        response = kinko.send(
            "POST", "/v1/register/attachments", body={}, files={"file": (path.name, data)}
        )
    stored: dict[str, Any] = response.json()
    return stored


@register_app.command("attach")
def attach(file: Path, as_json: JsonOption = False) -> None:
    """Store a file by its SHA-256 (changes no record); name the digest in a record."""
    with guarded_json(as_json):
        stored = _upload(file)
    if as_json:
        echo_json(stored)
        return
    state = "stored" if stored["new"] else "already held"
    console.print(f"{state}: {stored['sha256']} ({stored['size']} bytes)", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this domain's commands to `app`."""
    app.add_typer(register_app, name="register")
