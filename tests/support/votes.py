"""Four-eyes votes as a real approver casts them: a step-up bound to the vote
(`kinko.identity.step_ups`), answered by the approver's own software authenticator.

`make_user` remembers each person's authenticator here (per data directory), so that a
test holding only a person's session or id can vote as that person, through the API
(`step_up`), the CLI (`assertion_file`) or the services (`key_vote`).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from webauthn.helpers import base64url_to_bytes

from kinko.context import Context
from kinko.core.errors import Conflict
from kinko.identity.approval_terms import ApprovalKind
from kinko.identity.binding import StepUp
from kinko.identity.model import UserId
from kinko.identity.service import IdentityService
from kinko.identity.softauthn import SoftAuthenticator
from kinko.identity.step_ups import ApprovalStepUps, SecondVote

_KEYS: dict[tuple[str, str], SoftAuthenticator] = {}


def remember_key(ctx: Context, user_id: str, authenticator: SoftAuthenticator) -> None:
    _KEYS[(str(ctx.settings.data_dir), user_id.removeprefix("user:"))] = authenticator


def key_of(ctx: Context, user_id: str) -> SoftAuthenticator:
    found = _KEYS.get((str(ctx.settings.data_dir), user_id.removeprefix("user:")))
    assert found is not None, f"{user_id} has no authenticator (make_user enrols one)"
    return found


def _answer(ctx: Context, user_id: str, options: dict[str, Any]) -> dict[str, Any]:
    return key_of(ctx, user_id).assert_(
        challenge=base64url_to_bytes(str(options["challenge"])),
        origin=ctx.settings.webauthn_origin,
    )


def _signed(ctx: Context, shown: dict[str, Any]) -> dict[str, Any]:
    """The ``step_up`` answering a begun step-up (`shown`) with its approver's key."""
    credential = _answer(ctx, str(shown["terms"]["approver"]), shown["options"])
    return {"challenge_id": shown["challenge_id"], "credential": credential}


def key_vote(ctx: Context, person: str, kind: ApprovalKind, subject: str) -> SecondVote:
    """`person`'s vote on `subject`, confirmed by their key (service-level tests)."""
    from kinko.services import build_services

    services = build_services(ctx)
    step_ups = services.step_ups
    user = UserId(person.removeprefix("user:"))
    try:
        with ctx.db.transaction() as session:
            content = services.approval_content(session, kind, subject, user)
            challenge_id, options, _ = step_ups.begin(session, kind, subject, user, content)
    except Conflict as exc:
        if exc.code != "release_not_proposed":
            raise
        return step_ups.presented(None)  # the first vote proposes the release: no key
    return step_ups.presented(StepUp(challenge_id, _answer(ctx, user, options)))


def step_up(
    ctx: Context, api: TestClient, headers: dict[str, str], kind: str, subject: str
) -> dict[str, Any]:
    """The ``step_up`` body of the person `headers` sign in as, for their vote on `subject`."""
    begun = _begin(api, headers, kind, subject)
    assert begun.status_code == 200, begun.text
    return _signed(ctx, begun.json())


def _begin(api: TestClient, headers: dict[str, str], kind: str, subject: str) -> Any:
    """``POST /v1/auth/step-up/begin`` for a vote, as the person `headers` sign in as."""
    approval = {"kind": kind, "subject": subject}
    return api.post(
        "/v1/auth/step-up/begin", json={"purpose": "approve", "approval": approval}, headers=headers
    )


def vote_json(
    ctx: Context, api: TestClient, headers: dict[str, str], kind: str, subject: str, **body: Any
) -> dict[str, Any]:
    """An approve route's body: `body` and the person's bound ``step_up``. When no
    step-up can be had (a token, someone without a key), the body goes without it and
    the route refuses as it would anyone."""
    begun = _begin(api, headers, kind, subject)
    if begun.status_code != 200:
        return dict(body)
    return {**body, "step_up": _signed(ctx, begun.json())}


def assertion_file(ctx: Context, kind: str, subject: str, *, as_: str) -> str:
    """What a person passes as ``--assertion``: `kinko approval challenge KIND ID` run as
    `as_`, answered by their key, saved to a file in the data directory."""
    path = _answered(ctx, kind, subject, as_=as_)
    assert path is not None, f"{as_} got no challenge for {kind} {subject}"
    return path


def _answered(ctx: Context, kind: str, subject: str, *, as_: str) -> str | None:
    from tests.support.cli_api import kinko

    code, out = kinko(ctx, "approval", "challenge", kind, subject, "--json", as_=as_)
    if code != 0:
        return None
    shown = json.loads(out)
    path = ctx.settings.data_dir / f"assertion-{shown['challenge_id']}.json"
    path.write_text(json.dumps(_signed(ctx, shown)), encoding="utf-8")
    return str(path)


def no_step_up(ctx: Context) -> SecondVote:
    """A vote that carries no step-up: for cases the four-eyes rules refuse first (if the
    rules let it through, it is refused with ``step_up_required``)."""
    return ApprovalStepUps(ctx, mfa=IdentityService(ctx).mfa).presented(None)


def has_key(ctx: Context, user_id: str) -> bool:
    return (str(ctx.settings.data_dir), user_id.removeprefix("user:")) in _KEYS


def key_args(ctx: Context, kind: str, subject: str, *, as_: str) -> tuple[str, ...]:
    """``--assertion FILE`` for an approve command run by `as_` (`assertion_file`); none
    when the challenge is refused (the person may not vote: the command is then refused
    by the same rule, as it would be without a key)."""
    path = _answered(ctx, kind, subject, as_=as_)
    return () if path is None else ("--assertion", path)
