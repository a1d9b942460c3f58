"""The console's pages in the reader's language (issue #17 point 3): the browser's
Accept-Language, a ``lang`` cookie that counts only when valid, English when in doubt."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kinko.context import Context
from kinko.server import create_app

BROWSER = {"Accept": "text/html"}


@pytest.fixture
def app(ctx: Context) -> FastAPI:
    return create_app(ctx)


def html_lang(client: TestClient, **headers: str) -> str:
    page = client.get("/console/login", headers={**BROWSER, **headers})
    assert page.status_code == 200
    start = page.text.index("<html lang=") + len('<html lang="')
    return page.text[start : page.text.index('"', start)]


def test_the_page_s_language_follows_the_browser_and_a_valid_cookie(app: FastAPI) -> None:
    client = TestClient(app, base_url="https://testserver")
    assert html_lang(client) == "en"
    assert html_lang(client, **{"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.8"}) == "ja"
    assert html_lang(client, **{"Accept-Language": "ko-KR"}) == "ko"
    assert html_lang(client, **{"Accept-Language": "fr-FR,de;q=0.9"}) == "en"
    client.cookies.set("lang", "ko")
    assert html_lang(client, **{"Accept-Language": "ja"}) == "ko"
    for hostile in ('"><script>alert(1)</script>', "fr", "ja-JP"):
        client.cookies.set("lang", hostile)
        assert html_lang(client, **{"Accept-Language": "en"}) == "en"  # never reflected
