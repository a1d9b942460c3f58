"""``kinko screening ...``: the review cases name hits open (kinko.screening.cases).

Every command acts for the signed-in person through the API (`kinko login`): listing and
reading need ``screening:read``, deciding ``screening:write`` and someone other than
whoever asked for the screening. Names come from people and lists: they are printed as
text, never as markup.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from kinko.cli.common import console, echo_json
from kinko.cli.output import JsonOption, guarded_json, print_fields, print_table

cases_app = typer.Typer(help="Review cases for name hits.", no_args_is_help=True)


@cases_app.command("cases")
def cases(
    state: Annotated[
        str | None, typer.Option(help="open or decided (default: every case).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Review cases, newest first (200 at most)."""
    from kinko.cli import api

    params = {"state": state} if state else None
    with guarded_json(as_json), api.connect() as kinko:
        found: list[dict[str, Any]] = kinko.get("/v1/screening/cases", params=params)["cases"]
    if as_json:
        echo_json({"cases": found})
        return
    print_table(
        ("case", "state", "name", "best match", "score", "asked", "decision"),
        [
            (
                c["id"],
                c["state"],
                c["name"],
                _best(c),
                f"{c['hits'][0]['score']:.2f}" if c["hits"] else None,
                f"{c['requested_at'][:19]} {c['requested_by']}",
                c["decision"],
            )
            for c in found
        ],
        whole={"case"},
        title="Screening review cases",
    )


def _best(case: dict[str, Any]) -> str | None:
    if not case["hits"]:
        return None
    hit = case["hits"][0]
    return f"{hit['entity']} ({hit['list']} {hit['source_ref']})"


@cases_app.command("case")
def case(case_id: str, as_json: JsonOption = False) -> None:
    """One review case: the subject, every hit with its explanation, the decision."""
    from kinko.cli import api

    with guarded_json(as_json), api.connect() as kinko:
        found = kinko.get(f"/v1/screening/cases/{case_id}")
    if as_json:
        echo_json(found)
        return
    _print_case(found)


def _print_case(c: dict[str, Any]) -> None:
    print_fields(
        f"screening case {c['id']} ({c['state']})",
        [
            ("name", c["name"]),
            ("date of birth", c["dob"]),
            ("nationality", c["nationality"]),
            ("asked", f"{c['requested_at']} by {c['requested_by']}"),
            ("threshold", str(c["threshold"])),
            ("list versions", ", ".join(c["list_versions"])),
            ("decision", c["decision"]),
            ("reason", c["reason"]),
            ("decided", f"{c['decided_at']} by {c['decided_by']}" if c["decided_by"] else None),
        ],
    )
    for hit in c["hits"]:
        console.print(Text(f"  {hit['score']:.2f} {hit['explanation']}"), soft_wrap=True)


@cases_app.command("decide")
def decide(
    case_id: str,
    decision: Annotated[str, typer.Option(help="true_match or false_positive.")],
    reason: Annotated[str, typer.Option(help="Why: what you compared and found.")],
    as_json: JsonOption = False,
) -> None:
    """Decide an open case (as you; final); not a case you asked for."""
    from kinko.cli import api

    body = {"decision": decision, "reason": reason}
    with guarded_json(as_json), api.connect() as kinko:
        found = kinko.post(f"/v1/screening/cases/{case_id}/decide", body)
    if as_json:
        echo_json(found)
        return
    console.print(Text(f"{found['id']} decided: {found['decision']}"))


def register(app: typer.Typer) -> None:
    """Add ``kinko screening``."""
    app.add_typer(cases_app, name="screening")
