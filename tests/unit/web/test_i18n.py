"""The console's language choice and catalogues (kinko.web.i18n): a supported language
only, the browser's preference by weight, English whenever in doubt."""

from __future__ import annotations

import pytest

from kinko.web import i18n
from kinko.web.console import environment


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("ja", "ja"),
        ("ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", "ja"),
        ("ko-KR,ko;q=0.9", "ko"),
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,ko;q=0.5,ja;q=0.4", "ko"),
        ("de,ja;q=0.1", "ja"),
        ("ja;q=0.2,ko;q=0.8", "ko"),
        ("ja;q=0,ko;q=0", "en"),  # q=0: not acceptable
        ("ja;q=abc", "en"),  # a malformed weight makes nothing acceptable
        ("ja;q=2", "en"),
        ("*", "en"),
        ("zh-Hant-TW, ;;;,=,", "en"),
        ("x" * 10_000, "en"),
        ("JA-jp", "ja"),
    ],
)
def test_accept_language_picks_the_supported_language_weighted_highest(
    header: str | None, expected: str
) -> None:
    assert i18n.from_accept_language(header) == expected


def test_a_cookie_counts_only_when_it_names_a_supported_language() -> None:
    assert i18n.negotiate("ko", "ja") == "ko"
    assert i18n.negotiate(" JA ", None) == "ja"
    for hostile in ("fr", "", "ja-JP", "../../etc/passwd", '"><script>', "en\r\nSet-Cookie: x"):
        assert i18n.negotiate(hostile, "ja;q=0.5") == "ja", hostile
        assert i18n.negotiate(hostile, None) == "en", hostile


def test_every_template_has_gettext_ngettext_and_trans_english_is_the_identity() -> None:
    source = (
        '{{ _("Withdrawals") }}|{{ gettext("Alerts") }}|{{ ngettext("%(num)d entry", '
        '"%(num)d entries", 2)|format(num=2) }}|{% trans %}Sign in{% endtrans %}|{{ _("<b>") }}|'
        '{% trans who="<i>" %}by {{ who }}{% endtrans %}'
    )
    for locale in (*i18n.SUPPORTED, "xx"):
        env = environment(locale)
        assert env.autoescape is True
        shown = env.from_string(source).render()
        if locale in ("en", "xx"):
            assert shown == "Withdrawals|Alerts|2 entries|Sign in|&lt;b&gt;|by &lt;i&gt;"
        # _() of a value (a message from the code) is escaped like any value, and so is a
        # {% trans %} block's variable
        assert "|&lt;b&gt;|" in shown and shown.endswith("&lt;i&gt;")


def test_catalogues_are_read_once_per_process() -> None:
    assert i18n.translations("ja") is i18n.translations("ja")
    assert environment("ko") is environment("ko")
