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


def test_the_switch_remembers_a_supported_language_only(app: FastAPI) -> None:
    client = TestClient(app, base_url="https://testserver")
    switched = client.get(
        "/console/login", params={"next": "/console/alerts", "lang": "ja"}, headers=BROWSER
    )
    assert switched.status_code == 200
    assert '<html lang="ja">' in switched.text and "<h1>サインイン</h1>" in switched.text
    cookie = switched.headers["set-cookie"]
    assert cookie.startswith("lang=ja;") and "SameSite=strict" in cookie and "Secure" in cookie
    assert "HttpOnly" in cookie
    # the switch links back to this page, its query kept, in each language
    assert 'href="/console/login?next=%2Fconsole%2Falerts&amp;lang=ko" lang="ko"' in switched.text
    again = client.get("/console/login", headers=BROWSER)  # the cookie now decides
    assert '<html lang="ja">' in again.text and "set-cookie" not in again.headers
    for hostile in ("fr", '"><script>', "ja\r\nX: y"):
        refused = client.get("/console/login", params={"lang": hostile}, headers=BROWSER)
        assert refused.status_code == 200 and "set-cookie" not in refused.headers
        assert '<html lang="ja">' in refused.text  # the remembered choice stands
        assert "<script>" not in refused.text.split("</head>")[0]
    korean = client.get("/console/login", params={"lang": "ko"}, headers=BROWSER)
    assert "<h1>로그인</h1>" in korean.text and korean.headers["set-cookie"].startswith("lang=ko;")


def _words(page: str) -> dict[str, str]:
    """The scripts' words the layout handed over (kinko.web.script_words)."""
    import json

    opening = '<script type="application/json" id="kinko-words" nonce="'
    start = page.index(">", page.index(opening)) + 1
    table: dict[str, str] = json.loads(page[start : page.index("</script>", start)])
    return table


def test_the_scripts_get_their_sentences_in_the_page_s_language(app: FastAPI) -> None:
    """What approve.js, vote.js, the sign-in … say comes with the page, translated: a
    Korean page hands Korean sentences and words, an English one English."""
    client = TestClient(app, base_url="https://testserver")
    english = _words(client.get("/console/login", headers=BROWSER).text)
    korean = _words(client.get("/console/login", params={"lang": "ko"}, headers=BROWSER).text)
    assert english["withdrawal_now"] == "Approved. The withdrawal is now %(state)s."
    assert english["word:pending_approval"] == "pending approval"
    assert set(korean) == set(english)
    assert (
        korean["withdrawal_now"] != english["withdrawal_now"]
        and "%(state)s" in korean["withdrawal_now"]
    )
    assert korean["NotAllowedError"].startswith("보안 키가")
    assert korean["word:pending_approval"] != "pending approval"


def test_an_api_error_carries_its_message_in_the_asked_language(app: FastAPI) -> None:
    """The English message always; `localised` when the request asks for Japanese or Korean
    (cookie or Accept-Language), through the same patterns as the pages."""
    client = TestClient(app, base_url="https://testserver")
    body = {"username": "nobody", "code": "123456"}
    plain = client.post("/v1/auth/login/totp", json=body)
    assert plain.status_code in (400, 401) and "localised" not in plain.json()
    asked = client.post("/v1/auth/login/totp", json=body, headers={"Accept-Language": "ja"})
    assert asked.json()["message"] == plain.json()["message"]
    assert "localised" in asked.json()
    french = client.post("/v1/auth/login/totp", json=body, headers={"Accept-Language": "fr"})
    assert "localised" not in french.json()
