"""``kinko inspect ...``: self-inspection against the control catalogue (issue #16).

`inspect controls` lists the packaged catalogue (src/kinko/inspection/controls.yaml): each
control's id, title, how it is decided and its references in the chosen framework, with
whether each reference was verified. It reads no database. The JSON shape is in
docs/inspection.md.

Exit status: 0, or 2 for a bad option (or a catalogue that breaks its rules).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kinko.cli.common import echo_json
from kinko.cli.output import JsonOption, guarded_json, print_table

if TYPE_CHECKING:
    from kinko.inspection.catalogue import Control, Reference

inspect_app = typer.Typer(
    help="Self-inspection: the control catalogue and its framework mappings.",
    no_args_is_help=True,
)


class FrameworkChoice(StrEnum):
    JP = "jp"
    KR = "kr"
    CCSS = "ccss"
    NIST = "nist"
    ALL = "all"


def reference_json(reference: Reference) -> dict[str, Any]:
    return {
        "framework": reference.framework.value,
        "citation": reference.citation,
        "levels": [level.value for level in reference.levels],
        "verified": reference.verified,
        "source": reference.source.key if reference.source else None,
        "where": reference.where,
        "note": reference.note,
    }


def control_json(control: Control, references: tuple[Reference, ...]) -> dict[str, Any]:
    return {
        "id": control.id,
        "title": control.title,
        "decision": control.decision.value,
        "references": [reference_json(r) for r in references],
    }


def reference_cell(reference: Reference, with_framework: bool) -> str:
    levels = f" [{'/'.join(level.value for level in reference.levels)}]" if reference.levels else ""
    mark = "" if reference.verified else " (unverified)"
    prefix = f"{reference.framework.value}: " if with_framework else ""
    return f"{prefix}{reference.citation}{levels}{mark}"


@inspect_app.command("controls")
def controls(
    framework: Annotated[
        FrameworkChoice,
        typer.Option(
            "--framework", help="Only controls mapped to this framework (all: every one)."
        ),
    ] = FrameworkChoice.ALL,
    as_json: JsonOption = False,
) -> None:
    """List the control catalogue: id, title, how each is decided, the framework's references."""
    from kinko.inspection.catalogue import Framework, packaged

    with guarded_json(as_json):
        catalogue = packaged()
    chosen = None if framework is FrameworkChoice.ALL else Framework(framework.value)
    selected = catalogue.for_framework(chosen)

    def refs(control: Control) -> tuple[Reference, ...]:
        return control.references if chosen is None else control.references_for(chosen)

    if as_json:
        echo_json(
            {
                "catalogue": catalogue.version,
                "framework": framework.value,
                "controls": [control_json(c, refs(c)) for c in selected],
            }
        )
        return
    print_table(
        ("id", "title", "decision", "references"),
        [
            (
                c.id,
                c.title,
                c.decision.value,
                "\n".join(reference_cell(r, with_framework=chosen is None) for r in refs(c)),
            )
            for c in selected
        ],
        whole=("id",),
        title=f"catalogue {catalogue.version}, {framework.value}: {len(selected)} controls",
    )


def register(app: typer.Typer) -> None:
    """Add this domain's commands to `app`."""
    app.add_typer(inspect_app, name="inspect")
