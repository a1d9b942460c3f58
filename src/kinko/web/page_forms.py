"""What the console's pages share around their forms and the people they name: a form's
text field, usernames for the user ids a page shows, and the answer to a form (back to
the page with the reason when the service refused it, nothing changed; else a redirect).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinko.core.errors import KinkoError
from kinko.identity.model import Principal, ProposalKind, UserId
from kinko.services import Services
from kinko.store.tables.identity import UserRow
from kinko.web.console import render


def form_field(form: Any, name: str, limit: int = 1000) -> str:
    """The text of field `name` ("" if absent or not text), at most `limit` characters."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def usernames(session: Session, refs: Iterable[str | None]) -> dict[str, str]:
    """Usernames by the references a page holds (``usr_…`` or ``user:usr_…``, both keys);
    references to no person (tokens, the system) are left out."""
    wanted = {r for r in refs if r}
    ids = {r.removeprefix("user:") for r in wanted}
    found = {
        row.id: row.username
        for row in session.execute(select(UserRow).where(UserRow.id.in_(ids))).scalars()
    }
    return {r: found[r.removeprefix("user:")] for r in wanted if r.removeprefix("user:") in found}


def may_propose(
    services: Services, session: Session, principal: Principal, kind: ProposalKind
) -> str | None:
    """Why `principal` may not propose a four-eyes change of `kind`, in identity's words
    (None: they may) — read-only, so that a page shows no form its user cannot use."""
    try:
        services.identity.roles.require_proposer(session, UserId(principal.subject), kind)
    except KinkoError as exc:
        return exc.message
    return None


def form_page(
    request: Request,
    template: str,
    principal: Principal,
    error: KinkoError | None,
    **values: Any,
) -> HTMLResponse:
    """A page with forms: `template`, and a refused form's `error` (its reason and status)
    when the page answers one."""
    status = error.http_status if error else 200
    return render(request, template, principal=principal, error=error, status_code=status, **values)


def answer_form(
    act: Callable[[], object], done: str, again: Callable[[KinkoError], Response]
) -> Response:
    """Do `act` (it raises a KinkoError when refused): a 303 to `done`, or `again(error)` —
    the page with the reason — for a refused input or state. A missing permission, a
    scope, an unknown record stay errors of their own (403, 404)."""
    try:
        act()
    except KinkoError as exc:
        if exc.http_status in (401, 403, 404):
            raise
        return again(exc)
    return RedirectResponse(done, status_code=303)
