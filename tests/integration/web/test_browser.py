"""What a person's browser gets: HTML (the sign-in page, error pages) where an API client
gets JSON, and the API documentation pages working with no network beyond Kinko."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.server import create_app
from kinko.web.console import safe_next
from tests.support.identity import make_user, sign_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_console_sends_a_browser_to_the_sign_in_page_and_an_api_client_a_401(
    ctx: Context,
) -> None:
    with TestClient(create_app(ctx)) as client:
        page = client.get(
            "/console/withdrawals/wd_1?tab=x", headers=BROWSER, follow_redirects=False
        )
        assert page.status_code == 303
        target = urlsplit(page.headers["location"])
        assert target.path == "/console/login"
        assert parse_qs(target.query) == {"next": ["/console/withdrawals/wd_1?tab=x"]}
        login = client.get(page.headers["location"], headers=BROWSER)
        assert login.status_code == 200
        assert login.headers["content-type"].startswith("text/html")
        assert 'data-next="/console/withdrawals/wd_1?tab=x"' in login.text
        assert 'href="/docs"' in login.text

        api = client.get("/console/")
        assert api.status_code == 401
        assert api.json()["error"] == "unauthenticated"


def test_root_leads_a_browser_to_the_console_and_tells_an_api_client_where_things_are(
    ctx: Context,
) -> None:
    with TestClient(create_app(ctx)) as client:
        home = client.get("/", headers=BROWSER, follow_redirects=False)
        assert (home.status_code, home.headers["location"]) == (307, "/console/")
        assert client.get("/").json()["docs"] == "/docs"


def test_console_errors_are_html_pages_for_a_signed_in_browser(ctx: Context) -> None:
    _, auth = make_user(ctx, "ann", [])  # no role: may not read withdrawals
    assert auth is not None
    cookie, _ = sign_in(ctx, "ann", auth)
    with TestClient(create_app(ctx), cookies={"__Host-kinko_session": cookie}) as client:
        page = client.get("/console/withdrawals/wd_1", headers=BROWSER)
        assert page.status_code == 403
        assert page.headers["content-type"].startswith("text/html")
        assert "withdrawals:read" in page.text and "ann" in page.text
        api = client.get("/console/withdrawals/wd_1")
        assert (api.status_code, api.json()["error"]) == (403, "missing_permission")


def test_sign_in_goes_back_only_to_console_pages() -> None:
    assert safe_next("/console/withdrawals/wd_1") == "/console/withdrawals/wd_1"
    for bad in (None, "", "https://evil.example/", "//evil.example/x", "/console/..//x", "/v1/x"):
        assert safe_next(bad) == "/console/"
    assert safe_next("/console/\\evil.example") == "/console/"


def test_docs_and_redoc_load_everything_from_kinko_itself(ctx: Context) -> None:
    with TestClient(create_app(ctx)) as client:
        for page_path, needed in (
            ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css"}),
            ("/redoc", {"redoc.standalone.js"}),
        ):
            page = client.get(page_path, headers=BROWSER)
            assert page.status_code == 200, page_path
            # nothing from another host: no CDN, no fonts, no validator
            assert re.findall(r"https?://", page.text) == [], page_path
            refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
            assert needed <= {ref.rsplit("/", 1)[-1] for ref in refs}, page_path
            for ref in refs:
                assert ref.startswith("/"), ref
                asset = client.get(ref)
                assert asset.status_code == 200, ref
                assert len(asset.content) > 1000, ref
                kind = "javascript" if ref.endswith(".js") else ref.rsplit(".", 1)[-1]
                assert kind in asset.headers["content-type"], ref
            assert "/openapi.json" in page.text
        assert client.get("/openapi.json").json()["info"]["title"] == "Kinko"
        assert client.get("/docs/static/../../etc/passwd").status_code == 404
        assert client.get("/docs/static/secret.key").status_code == 404
