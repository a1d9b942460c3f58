"""What the console's confirmation pages share (kinko.identity.confirmation): the page
(``templates/confirmation.html``, which each purpose's template extends), showing a request
by the code the CLI printed, the deny form, and the page's script: ``static/confirm.js``
(the API's ``/challenge`` and ``/approve`` of the purpose) with the page's own wiring.

Used by the device-login page (kinko.web.device) and the token confirmation page
(kinko.web.token_confirm): each describes its page (`ConfirmationPage`) and adds its
routes with `ConfirmationPage.add_routes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from kinko.api.auth import authenticated, public
from kinko.api.deps import AppServices, get_ctx
from kinko.context import Context
from kinko.core.clock import isoformat
from kinko.core.errors import InputError, KinkoError, PermissionDenied
from kinko.identity.confirmation import Confirmations, PendingRequest
from kinko.identity.model import Principal
from kinko.services import Services
from kinko.web.console import HERE, SECURITY_HEADERS, render

View = TypeVar("View", bound=PendingRequest)
Ctx = Annotated[Context, Depends(get_ctx)]
Person = Annotated[Principal, Depends(authenticated(person=True))]


def page_script(name: str) -> Response:
    """A confirmation page's script: the shared ``static/confirm.js``, then the page's own
    ``static/<name>`` that wires it (one file: the CSP allows no inline script)."""
    shared = (HERE / "static" / "confirm.js").read_bytes()
    return Response(
        shared + b"\n" + (HERE / "static" / name).read_bytes(),
        media_type="text/javascript",
        headers=SECURITY_HEADERS,
    )


@dataclass(frozen=True)
class ConfirmationPage(Generic[View]):
    # ``templates/<name>.html`` and ``static/<name>.js`` (served after confirm.js)
    name: str
    path: str  # the page: ``{path}?code=...``; its deny form posts to ``{path}/deny``
    refusal: str  # what a non-person is told when it posts the deny form
    # The purpose's own values for the template (None: no request shown).
    values: Callable[[Context, View | None], dict[str, Any]]

    def add_routes(
        self, router: APIRouter, service_of: Callable[[Services], Confirmations[Any, View]]
    ) -> None:
        """The page, its deny form and its script, on `router`."""

        @router.get(self.path, response_class=HTMLResponse)
        def page(
            request: Request, principal: Person, ctx: Ctx, services: AppServices, code: str = ""
        ) -> HTMLResponse:
            return self.show(request, ctx, principal, service_of(services), code)

        @router.post(f"{self.path}/deny", response_class=HTMLResponse)
        async def deny_form(
            request: Request, principal: Person, ctx: Ctx, services: AppServices
        ) -> HTMLResponse:
            """The deny form (its CSRF token was checked with the session)."""
            return await self.deny(request, ctx, principal, service_of(services))

        @router.get(f"/console/static/{self.name}.js", dependencies=[public()])
        def script() -> Response:
            return page_script(f"{self.name}.js")

    def render(
        self,
        request: Request,
        ctx: Context,
        principal: Principal,
        *,
        found: View | None = None,
        code: str = "",
        error: KinkoError | None = None,
        outcome: str = "",
    ) -> HTMLResponse:
        return render(
            request,
            f"{self.name}.html",
            principal=principal,
            found=found,
            code=code,
            error=error,
            outcome=outcome,
            requested_at=isoformat(found.created_at) if found else "",
            expires_at=isoformat(found.expires_at) if found else "",
            browser_ip=request.client.host if request.client is not None else None,
            origin=ctx.settings.webauthn_origin,
            rp_id=ctx.settings.webauthn_rp_id,
            status_code=error.http_status if error else 200,
            **self.values(ctx, found),
        )

    def show(
        self,
        request: Request,
        ctx: Context,
        principal: Principal,
        service: Confirmations[Any, View],
        code: str,
    ) -> HTMLResponse:
        """The request waiting for `code` (or the form to type one in)."""
        if not code.strip():
            return self.render(request, ctx, principal)
        try:
            with ctx.db.transaction() as session:
                found = service.request(session, code, principal.subject)
        except KinkoError as exc:
            return self.render(request, ctx, principal, code=code[:32], error=exc)
        return self.render(request, ctx, principal, found=found, code=found.user_code)

    async def deny(
        self,
        request: Request,
        ctx: Context,
        principal: Principal,
        service: Confirmations[Any, View],
    ) -> HTMLResponse:
        form = await request.form()
        code = form.get("user_code")
        if not isinstance(code, str):
            raise InputError("user_code", "missing: reload the page")
        if principal.kind != "user":
            raise PermissionDenied(self.refusal, code="person_required")
        ip = request.client.host if request.client is not None else None
        try:
            with ctx.db.transaction() as session:
                found = service.deny(session, code, principal.subject, source_ip=ip)
        except KinkoError as exc:
            return self.render(request, ctx, principal, code=code[:32], error=exc)
        return self.render(
            request, ctx, principal, found=found, code=found.user_code, outcome="denied"
        )
