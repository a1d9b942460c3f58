"""People signed in to the console in a test: a browser (TestClient with the session
cookie, asking for HTML) and the session's CSRF token for its forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.identity.model import RoleGrant
from kinko.identity.permissions import Role
from kinko.identity.sessions import COOKIE_NAME
from kinko.identity.softauthn import SoftAuthenticator
from kinko.server import create_app
from kinko.services import Services
from tests.support.identity import make_user, sign_in

BROWSER = {"Accept": "text/html"}


def person(
    ctx: Context, name: str, roles: list[Role | RoleGrant], services: Services | None = None
) -> tuple[TestClient, str]:
    """A new person holding `roles`, signed in (on an app with `services` if given)."""
    _, auth = make_user(ctx, name, roles)
    assert auth is not None
    return signed_in(ctx, name, auth, services)


def signed_in(
    ctx: Context, name: str, auth: SoftAuthenticator, services: Services | None = None
) -> tuple[TestClient, str]:
    """`name`'s browser, signed in with their authenticator, and the CSRF token."""
    cookie, csrf = sign_in(ctx, name, auth)
    app = create_app(ctx, services=services)
    return TestClient(app, cookies={COOKIE_NAME: cookie}, headers=BROWSER), csrf


def forms_in(html: str) -> list[str]:
    """The attributes of the forms that change something (they POST) on a page, but the
    layout's sign-out; a GET form (the filters of a list) changes nothing."""
    found = re.findall(r"<form\b([^>]*)>", html)
    return [a for a in found if 'method="post"' in a and "/console/logout" not in a]
