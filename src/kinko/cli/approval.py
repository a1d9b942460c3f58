"""``kinko approval``: the security-key step-up behind every four-eyes approval.

Approving a proposal, an unfreeze, an address-book entry or a response's release needs
your own security key, now, over a challenge bound to exactly that vote
(`kinko.identity.step_ups`). ``kinko approval challenge KIND ID`` asks the server for it;
your authenticator answers it; the approve command sends the answer with
``--assertion FILE`` (a JSON object ``{"challenge_id": ..., "credential":
AuthenticationResponseJSON}``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kinko.cli.common import echo_json
from kinko.cli.output import JsonOption, guarded_json
from kinko.core.errors import InputError

KINDS = ("proposal", "response-release")

AssertionOption = Annotated[
    Path | None,
    typer.Option(
        "--assertion",
        help="JSON {challenge_id, credential}: your authenticator's answer to "
        "'kinko approval challenge KIND ID'.",
    ),
]


def step_up_body(assertion: Path | None, kind: str, subject: str) -> dict[str, Any]:
    """The approve command's body: ``step_up`` read from `assertion`. Without one the
    request goes without, so that the server says first whether you may approve at all
    (and, if you may, how to get the challenge)."""
    if assertion is None:
        return {}
    try:
        answer = json.loads(assertion.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError("--assertion", f"cannot read a JSON assertion: {exc}") from None
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("challenge_id"), str)
        or not isinstance(answer.get("credential"), dict)
    ):
        raise InputError(
            "--assertion",
            'must hold a JSON object {"challenge_id": "...", "credential": {...}} '
            f"answering 'kinko approval challenge {kind} {subject}'",
        )
    return {"step_up": {"challenge_id": answer["challenge_id"], "credential": answer["credential"]}}


def register(app: typer.Typer) -> None:
    approval = typer.Typer(help="The security-key step-up behind every four-eyes approval.")
    app.add_typer(approval, name="approval")

    @approval.command("challenge")
    def challenge(kind: str, subject: str, as_json: JsonOption = False) -> None:
        """A one-time challenge (5 minutes) for your vote on KIND (proposal — roles,
        people, custody, lists, policies, unfreezes, address-book entries —, or
        response-release) SUBJECT: your authenticator signs it."""
        from kinko.cli import api

        with guarded_json(as_json):
            if kind not in KINDS:
                raise InputError("KIND", f"is not an approval kind: use one of {', '.join(KINDS)}")
            approved = {"kind": kind.replace("-", "_"), "subject": subject}
            with api.connect() as kinko:
                shown = kinko.post(
                    "/v1/auth/step-up/begin", {"purpose": "approve", "approval": approved}
                )
                page = f"{kinko.addr.rstrip('/')}/console/approvals/{kind}/{subject}"
        if as_json:
            echo_json(shown)
            return
        typer.echo(f"challenge_id: {shown['challenge_id']}")
        for field, value in shown["terms"].items():
            typer.echo(f"{field}: {value}")
        typer.echo(f"challenge: {shown['options']['challenge']}")
        typer.echo(
            "Sign 'challenge' with your authenticator (navigator.credentials.get with the "
            "options of --json, user verification required), save "
            '{"challenge_id": ..., "credential": ...} to FILE, then run the approve '
            "command with --assertion FILE. Or approve in the console with your security "
            f"key: {page}"
        )
