"""The console's Japanese and Korean catalogues (src/kinko/web/locale): every string the
templates and the page code mark is translated in both (not empty, not fuzzy), keeps its
placeholders, and brings no markup of its own (a translation may only carry the tags its
English text has: the catalogue is trusted as template text is)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from kinko.web import i18n
from kinko.web.console import environment

ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")
TAG = re.compile(r"<[^>]*>")


def marked() -> set[str | tuple[str, str]]:
    """Every msgid babel.cfg's map extracts (what `pybabel extract` would write)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found: set[str | tuple[str, str]] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords, strip_comment_tags=True
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


@pytest.mark.parametrize("locale", ["ja", "ko"])
def test_every_marked_string_is_translated_with_its_placeholders_and_no_new_markup(
    locale: str,
) -> None:
    with i18n.catalogue_path(locale).open("rb") as po:
        catalogue = read_po(po, locale=locale)
    strings = marked()
    assert len(strings) > 200  # the console's pages, not an empty extraction
    problems = []
    for msgid in sorted(strings, key=str):
        entry = catalogue.get(msgid if isinstance(msgid, str) else msgid[0])
        if (
            entry is None
            or entry.fuzzy
            or not all(entry.string if isinstance(entry.string, tuple) else (entry.string,))
        ):
            problems.append(f"untranslated: {msgid!r}")
            continue
        english = msgid if isinstance(msgid, str) else msgid[1]
        for text in entry.string if isinstance(entry.string, tuple) else (entry.string,):
            if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(english)):
                problems.append(f"placeholders differ: {msgid!r} -> {text!r}")
            if Counter(TAG.findall(text)) != Counter(TAG.findall(english)):
                problems.append(f"markup differs: {msgid!r} -> {text!r}")
    assert not problems, "\n".join(problems)


def test_every_template_compiles_in_every_language() -> None:
    for locale in i18n.SUPPORTED:
        env = environment(locale)
        for name in env.list_templates(extensions=["html"]):
            env.get_template(name)


def test_a_translation_is_used_and_escaped_values_stay_escaped() -> None:
    ja = environment("ja")
    assert ja.from_string('{{ _("Sign out") }}').render() == "サインアウト"
    assert environment("ko").from_string('{{ _("Withdrawals") }}').render() == "출금"
    shown = ja.from_string(
        '{% trans name="<script>" %}Signed in as <strong>{{ name }}</strong>.{% endtrans %}'
    ).render()
    assert shown == "<strong>&lt;script&gt;</strong>としてサインイン中です。"
