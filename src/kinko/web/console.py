"""The server-rendered console: layout, sign-in page, session cookie and CSRF plumbing.

Other console pages (e.g. withdrawals approvals in ``web/withdrawals.py``) use
`render(...)` for the layout and security headers, depend on ``require(...)`` or
``authenticated()`` like any route, put ``{{ csrf_token }}`` in a hidden ``csrf_token``
field of every form (the auth dependency checks it for unsafe methods) and
``nonce="{{ csp_nonce }}"`` on every ``<script>`` (the policy runs no other script).
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader

from kinko.api.auth import authenticated, public
from kinko.api.deps import AppServices, get_ctx
from kinko.context import Context
from kinko.core.errors import AuthenticationError, KinkoError
from kinko.identity.model import Principal
from kinko.identity.sessions import COOKIE_NAME, csrf_token_for
from kinko.web import formatting, i18n, words
from kinko.web.script_words import script_words

HERE = Path(__file__).parent


@cache
def environment(locale: str) -> Environment:
    """The templates in `locale` (one environment per language, built once): ``_``,
    ``gettext``, ``ngettext`` and ``{% trans %}`` (jinja2.ext.i18n) answer from its
    catalogue (`kinko.web.i18n`); English is the identity. Its filters show values in
    that language: ``word`` (an enum's value), ``message`` (a sentence from Kinko's code,
    `kinko.web.words`), ``number``, ``percent``, ``when`` (UTC) and ``day``
    (`kinko.web.formatting`).

    Every template autoescapes (not only those named *.html): nothing a person typed is
    ever rendered as markup; a value is markup only through an explicit ``|safe``, which no
    console template uses (tests/integration/web/test_page_security.py checks both). A
    translation from ``_()`` is escaped like any value."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
    translations = i18n.translations(locale)
    env.install_gettext_translations(translations, newstyle=False)  # type: ignore[attr-defined]
    env.globals["lang"] = locale
    gettext = translations.gettext
    env.globals["script_words"] = script_words(gettext)  # the layout hands it to the scripts
    env.filters.update(
        word=lambda value: words.word(value, gettext),
        message=lambda text: words.message(text, gettext),
        number=lambda value: formatting.number(value, locale),
        percent=lambda value: formatting.share(value, locale),
        when=lambda value: formatting.when(value, locale),
        day=lambda value: formatting.day(value, locale),
    )
    return env


templates = environment(i18n.DEFAULT)
# The policy of everything the console serves. A page's scripts run only with the nonce
# `render` makes for that one response (`page_headers`); static files run no script at all.
POLICY = (
    "default-src 'self'; script-src {scripts}; style-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
OTHER_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}
SECURITY_HEADERS = {"Content-Security-Policy": POLICY.format(scripts="'none'"), **OTHER_HEADERS}


def page_headers(nonce: str) -> dict[str, str]:
    """The headers of one rendered page: its scripts run only with `nonce`."""
    return {"Content-Security-Policy": POLICY.format(scripts=f"'nonce-{nonce}'"), **OTHER_HEADERS}


router = APIRouter()
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # a language is no secret and seldom changes
Ctx = Annotated[Context, Depends(get_ctx)]


def locale_of(request: Request) -> str:
    """The request's language: the layout's switch (``?lang=``, when it names a supported
    language), else `kinko.web.i18n.negotiate` (cookie, Accept-Language, English)."""
    return i18n.supported(request.query_params.get("lang")) or i18n.negotiate(
        request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
    )


def language_links(request: Request) -> list[tuple[str, str, str]]:
    """The layout's switch: (language, its name, this page in it). A GET page links to
    itself with its query and ``lang``; a page answering a form goes to the console home."""
    here = safe_next(request.url.path) if request.method in {"GET", "HEAD"} else "/console/"
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return [
        (code, i18n.NAMES[code], f"{here}?{urlencode([*kept, ('lang', code)])}")
        for code in i18n.SUPPORTED
    ]


def render(
    request: Request,
    template: str,
    *,
    principal: Principal | None = None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """Render `template` inside the layout with the CSRF token, a fresh script nonce
    (``csp_nonce``: every ``<script>`` carries it) and the security headers."""
    cookie = request.cookies.get(COOKIE_NAME)
    nonce = secrets.token_urlsafe(18)
    locale = locale_of(request)
    html = (
        environment(locale)
        .get_template(template)
        .render(
            principal=principal,
            csrf_token=csrf_token_for(cookie) if cookie and principal else "",
            csp_nonce=nonce,
            languages=language_links(request),
            current_path=request.url.path,
            **values,
        )
    )
    response = HTMLResponse(html, status_code=status_code, headers=page_headers(nonce))
    switched = i18n.supported(request.query_params.get("lang"))
    if switched is not None and request.cookies.get(i18n.COOKIE) != switched:
        # the switch was used: remember it (a supported value only; never reflected as given)
        response.set_cookie(
            i18n.COOKIE,
            switched,
            max_age=LANGUAGE_COOKIE_AGE,
            path="/",
            secure=True,
            httponly=True,
            samesite="strict",
        )
    return response


def _static(name: str, media_type: str) -> Response:
    return Response(
        (HERE / "static" / name).read_bytes(), media_type=media_type, headers=SECURITY_HEADERS
    )


def for_browser(request: Request) -> bool:
    """A person's browser loading a console page (it asks for HTML), not an API client."""
    return (
        request.method in {"GET", "HEAD"}
        and request.url.path.startswith("/console")
        and "text/html" in request.headers.get("accept", "")
    )


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path only (never another site)."""
    if target and target.startswith("/console/") and "//" not in target and "\\" not in target:
        return target
    return "/console/"


def localised(request: Request, exc: KinkoError) -> dict[str, str]:
    """An API error's message in the language the request asks for (the console's
    language cookie, else Accept-Language), as ``{"localised": ...}`` beside the English
    ``message`` the API always gives; nothing when that language is English. The
    console's scripts show it; other clients may ignore it."""
    cookie, header = request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
    locale = i18n.negotiate(cookie, header)
    if locale == i18n.DEFAULT:
        return {}
    return {"localised": words.message(exc.message, i18n.translations(locale).gettext)}


def browser_error(request: Request, exc: KinkoError) -> Response:
    """What a browser gets instead of a JSON error: the sign-in page when nobody is signed
    in (a 303 to it), else an HTML page with the status and the message."""
    if isinstance(exc, AuthenticationError):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            f"/console/login?{urlencode({'next': safe_next(target)})}",
            status_code=303,
            headers={"Cache-Control": "no-store"},
        )
    principal = getattr(request.state, "principal", None)
    return render(
        request, "error.html", principal=principal, status_code=exc.http_status, error=exc
    )


@router.get("/", dependencies=[public()], include_in_schema=False)
def index(request: Request) -> Response:
    """Browsers go to the console; API clients get where things are."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/console/", status_code=307)
    return JSONResponse(
        {
            "name": "Kinko",
            "console": "/console/",
            "docs": "/docs",
            "redoc": "/redoc",
            "openapi": "/openapi.json",
            "health": "/healthz",
        }
    )


@router.get("/console/login", dependencies=[public()], response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(
        request,
        "login.html",
        next=safe_next(next),
        demo=bool(getattr(request.app.state, "demo_login", False)),
    )


@router.get("/console/static/console.js", dependencies=[public()])
def console_js() -> Response:
    return _static("console.js", "text/javascript")


@router.get("/console/static/console.css", dependencies=[public()])
def console_css() -> Response:
    return _static("console.css", "text/css")


@router.get("/console/static/favicon.svg", dependencies=[public()])
def favicon() -> Response:
    """The console's icon (browsers ask for one: without it, a 404 on every first page)."""
    return _static("favicon.svg", "image/svg+xml")


@router.get("/console/", response_class=HTMLResponse)
async def home(
    request: Request,
    principal: Annotated[Principal, Depends(authenticated())],
    services: AppServices,
) -> HTMLResponse:
    """The dashboard (`kinko.web.dashboard`): each panel for those who may read its data."""
    from kinko.web.dashboard import dashboard

    return await dashboard(request, principal, services)


@router.post("/console/logout")
def logout(
    request: Request,
    ctx: Ctx,
    services: AppServices,
    principal: Annotated[Principal, Depends(authenticated())],
) -> Response:

    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        with ctx.db.transaction() as session:
            services.identity.sessions.revoke(session, cookie)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", secure=True, httponly=True, samesite="strict")
    return response
