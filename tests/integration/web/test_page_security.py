"""The console pages' own security (issue #17 point 2), route by route so that a new page
cannot slip past: a strict Content-Security-Policy with a fresh script nonce per response
(no 'unsafe-inline', no other host) and frame-ancestors 'none' on every page; every console
form POST refused without the session's CSRF token; the session cookie's flags; idle and
absolute session timeouts (identity's sessions, seen through a console page); nothing a
person typed rendered as markup."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from kinko.audit.note import generate_signer
from kinko.context import Context
from kinko.core.clock import FixedClock
from kinko.core.secretfile import write_secret_file
from kinko.identity.sessions import ABSOLUTE_TIMEOUT, COOKIE_NAME, IDLE_TIMEOUT, csrf_token_for
from kinko.server import create_app
from kinko.web import console
from tests.support.identity import make_user, sign_in

BROWSER = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
TEMPLATES = Path(console.__file__).parent / "templates"
# Console GETs that answer a file to download rather than a page.
DOWNLOADS = {"/console/audit/verifier-key"}
# The one console POST reachable without a session: it carries its own form token.
PUBLIC_POSTS = {"/console/demo-login"}


def console_routes(app: FastAPI, method: str) -> list[str]:
    """Every console path answering `method` (the app's own table: a new page is in it)."""
    paths = sorted(
        {
            route.path
            for route in iter_route_contexts(app.routes)
            if route.path.startswith("/console") and method in (route.methods or ())
        }
    )
    assert paths, method
    return paths


def filled(path: str) -> str:
    """`path` with each parameter given a value (a page for something that may not exist:
    its error page is a page too)."""
    return re.sub(r"\{[^}]+\}", "x1", path)


def nonce_of(policy: str) -> str:
    found = re.search(r"script-src 'nonce-([A-Za-z0-9_-]{16,})'", policy)
    assert found is not None, policy
    return found.group(1)


@pytest.fixture
def app(ctx: Context) -> FastAPI:
    return create_app(ctx)


@pytest.fixture
def admin(ctx: Context, app: FastAPI) -> TestClient:
    key = ctx.settings.resolved_audit_key_path  # the log's key: its verifier is served
    if not key.exists():
        write_secret_file(key, generate_signer(ctx.settings.audit_origin)[0].encode())
    _, auth = make_user(ctx, "sam", ["security_admin"])
    assert auth is not None
    cookie, _ = sign_in(ctx, "sam", auth)
    return TestClient(app, base_url="https://testserver", cookies={COOKIE_NAME: cookie})


def test_every_console_page_has_a_strict_policy_with_a_fresh_nonce_on_its_scripts(
    app: FastAPI, admin: TestClient
) -> None:
    pages = [p for p in console_routes(app, "GET") if not p.startswith("/console/static/")]
    assert {"/console/", "/console/login", "/console/withdrawals/{withdrawal_id}"} <= set(pages)
    seen: set[str] = set()
    for path in pages:
        page = admin.get(filled(path), headers=BROWSER, follow_redirects=False)
        policy = page.headers["content-security-policy"]
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, path
        assert re.search(r"https?:|\*|data:", policy) is None, (path, policy)
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, path
        if path in DOWNLOADS:  # a file, not a page: no script runs at all
            assert page.status_code == 200, (path, page.text)
            assert not page.headers["content-type"].startswith("text/html"), path
            assert "script-src 'none'" in policy, path
            continue
        assert page.headers["content-type"].startswith("text/html"), path
        assert "base-uri 'none'" in policy and "form-action 'self'" in policy, path
        assert page.headers["x-frame-options"] == "DENY", path
        assert page.headers["cache-control"] == "no-store", path
        nonce = nonce_of(policy)
        assert nonce not in seen, path  # one per response
        seen.add(nonce)
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, flags=re.S)
        assert scripts, path  # every page loads at least the console's script
        for attributes, body in scripts:
            assert f'nonce="{nonce}"' in attributes, (path, attributes)
            if 'type="application/json"' in attributes:
                # the scripts' words (kinko.web.script_words): data no browser runs
                assert 'id="kinko-words"' in attributes and "src=" not in attributes, path
                words = json.loads(body)
                assert all(isinstance(v, str) for v in words.values()), path
                continue
            assert 'src="/console/static/' in attributes and not body.strip(), path
    again = admin.get("/console/", headers=BROWSER)
    assert nonce_of(again.headers["content-security-policy"]) not in seen


def test_static_files_run_no_script_of_their_own_policy(app: FastAPI, admin: TestClient) -> None:
    for path in console_routes(app, "GET"):
        if path.startswith("/console/static/"):
            served = admin.get(path)
            assert served.status_code == 200, path
            assert "script-src 'none'" in served.headers["content-security-policy"], path
            assert served.headers["x-content-type-options"] == "nosniff", path


def test_every_template_s_scripts_carry_the_nonce() -> None:
    """Every template's <script> carries the page's nonce (the policy allows no other
    script), and no template marks a value safe."""
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", ""), template.name
        assert "autoescape false" not in text, template.name
        tags = re.findall(r"<script\b[^>]*>", text)
        assert all('nonce="{{ csp_nonce }}"' in tag for tag in tags), template.name
    policy = console.page_headers("n0nce")["Content-Security-Policy"]
    assert "script-src 'nonce-n0nce';" in policy


def test_every_console_form_post_is_refused_without_the_csrf_token(
    app: FastAPI, admin: TestClient
) -> None:
    posts = [p for p in console_routes(app, "POST") if p not in PUBLIC_POSTS]
    assert "/console/logout" in posts
    cookie = admin.cookies[COOKIE_NAME]
    for path in posts:
        for form in ({}, {"csrf_token": "not-the-token"}):
            refused = admin.post(filled(path), data=form, follow_redirects=False)
            assert refused.status_code == 403, (path, form, refused.text)
            assert refused.json()["error"] == "csrf_failed", path
        # a browser gets the same refusal as a page
        page = admin.post(filled(path), data={}, headers=BROWSER, follow_redirects=False)
        assert page.status_code == 403 and "csrf" in page.text.lower(), path
    # The token of the session is accepted (signing out: the session ends).
    token = csrf_token_for(cookie)
    out = admin.post("/console/logout", data={"csrf_token": token}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/console/login")
    assert admin.get("/console/").status_code == 401


def test_the_session_cookie_is_secure_httponly_and_strict(ctx: Context) -> None:
    _, auth = make_user(ctx, "ann", ["auditor"])
    assert auth is not None
    from webauthn.helpers import base64url_to_bytes

    with TestClient(create_app(ctx), base_url="https://testserver") as client:
        begun = client.post("/v1/auth/login/webauthn/begin", json={"username": "ann"}).json()
        credential = auth.assert_(
            challenge=base64url_to_bytes(begun["options"]["challenge"]),
            origin=ctx.settings.webauthn_origin,
        )
        done = client.post(
            "/v1/auth/login/webauthn/finish",
            json={"challenge_id": begun["challenge_id"], "credential": credential},
        )
        assert done.status_code == 200, done.text
        header = done.headers["set-cookie"]
        attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
        assert header.startswith(f"{COOKIE_NAME}=kks_")
        assert {"httponly", "secure", "samesite", "path"} <= attributes
        assert "samesite=strict" in header.lower() and "path=/" in header.lower()
        assert "domain" not in attributes
        assert client.get("/console/", headers=BROWSER).status_code == 200


def test_console_sessions_end_when_idle_and_at_their_absolute_limit(
    ctx: Context, clock: FixedClock
) -> None:
    _, auth = make_user(ctx, "ann", ["auditor"])
    assert auth is not None

    client = TestClient(create_app(ctx))

    def page_for(cookie: str) -> int:
        client.cookies.set(COOKIE_NAME, cookie)
        response = client.get("/console/", headers=BROWSER, follow_redirects=False)
        return response.status_code

    idle, _ = sign_in(ctx, "ann", auth)
    clock.advance(IDLE_TIMEOUT - timedelta(seconds=5))
    assert page_for(idle) == 200  # still in use: activity recorded
    clock.advance(IDLE_TIMEOUT - timedelta(seconds=5))
    assert page_for(idle) == 200
    clock.advance(IDLE_TIMEOUT + timedelta(seconds=1))
    assert page_for(idle) == 303  # idle too long: back to the sign-in page

    busy, _ = sign_in(ctx, "ann", auth)
    used = timedelta()
    while used + IDLE_TIMEOUT / 2 < ABSOLUTE_TIMEOUT:
        assert page_for(busy) == 200, used
        clock.advance(IDLE_TIMEOUT / 2)
        used += IDLE_TIMEOUT / 2
    clock.advance(ABSOLUTE_TIMEOUT - used)
    assert page_for(busy) == 303  # never idle, but its absolute lifetime is over


def test_what_a_person_typed_is_never_rendered_as_markup(admin: TestClient) -> None:
    assert console.templates.autoescape is True
    evil = '/console/"><script>alert(1)</script><img src=x onerror=alert(2)>'
    page = admin.get("/console/login", params={"next": evil}, headers=BROWSER)
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    enrol = admin.get("/console/enrol", params={"username": "<b>x</b>"}, headers=BROWSER)
    assert "<b>x</b>" not in enrol.text and "&lt;b&gt;x&lt;/b&gt;" in enrol.text
