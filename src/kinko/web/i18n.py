"""The console's languages: which one a request gets, and its gettext catalogue.

English is the source language (every msgid is the English text) and its catalogue is
the identity; Japanese and Korean are catalogues shipped in the package
(``web/locale/<lang>/LC_MESSAGES/messages.po``), read with Babel once per process.

A request's language is the ``lang`` cookie when it names a supported language (the
switch in the layout sets it through ``/console/language``), else the best supported
language of its ``Accept-Language`` header, else English. Nothing here fails: an
unknown, malformed or hostile value is English, never an error page.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

SUPPORTED: Final = ("en", "ja", "ko")
DEFAULT: Final = "en"
COOKIE: Final = "lang"
# Each language's name in itself, for the switch (a person looks for their own language).
NAMES: Final = {"en": "English", "ja": "日本語", "ko": "한국어"}
LOCALE_DIR: Final = Path(__file__).parent / "locale"
DOMAIN: Final = "messages"
MAX_RANGES = 32  # Accept-Language ranges looked at (a header is not a place to spend CPU)


def supported(value: str | None) -> str | None:
    """`value` if it is a supported language tag (exactly, case-insensitively), else None:
    the only way a cookie's or a form's value becomes a language."""
    if value is None:
        return None
    tag = value.strip().lower()
    return tag if tag in SUPPORTED else None


def _quality(text: str) -> float | None:
    try:
        q = float(text)
    except ValueError:
        return None
    return q if 0.0 <= q <= 1.0 else None


def from_accept_language(header: str | None) -> str:
    """The supported language the header prefers most (RFC 9110 weights; ``ja-JP`` counts
    as ``ja``), else English. ``*`` adds nothing: English is the fallback anyway."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((header or "").split(",")[:MAX_RANGES]):
        tag, *params = (part.strip() for part in item.split(";"))
        q: float | None = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                q = _quality(value.strip())
        language = supported(tag.split("-")[0])
        if language is None or q is None or q <= 0:
            continue
        key = (-q, position, language)
        if best is None or key < best:
            best = key
    return best[2] if best else DEFAULT


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The request's language: a valid ``lang`` cookie, else Accept-Language, else English."""
    return supported(cookie) or from_accept_language(accept_language)


def catalogue_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> NullTranslations:
    """`locale`'s catalogue, read once per process: English (and anything unsupported) is
    the identity; a translation left empty or marked fuzzy in the .po is not used."""
    if supported(locale) in (None, DEFAULT):
        return NullTranslations()
    with catalogue_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)
