"""Name normalisation and scoring for screening people and organisations.

Normalisation (`name_tokens`): Unicode NFKD with combining marks dropped (diacritics),
case-folded, dots and apostrophes removed (``S.R.O.`` -> ``sro``, ``O'Neil`` -> ``oneil``),
every other punctuation (hyphens included) a space, honorifics and legal-form suffixes
dropped, and Korean surname/syllable romanisations folded to one spelling (``Park``,
``Bak`` -> ``pak``; ``Lee``, ``Rhee``, ``Yi`` -> ``ri``; ``Hyuk`` -> ``hyok``...), because the
lists use DPRK (McCune-Reischauer-like) spellings and customers often the South Korean
ones. Original-script names (Hangul, Cyrillic, Arabic...) are kept as they are.

Scoring (`score_tokens`) is order-insensitive: every query token is aligned with its
best Jaro-Winkler match among the list name's tokens and vice versa; the two directions
are averaged, each weighted by token length. A list name with tokens the query lacks
(``KIM IL`` against ``KIM IL SUNG``) therefore scores lower than an exact reordering.
Date of birth and nationality, when both sides have them, raise or lower the score.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import JaroWinkler

HONORIFICS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "madam",
        "dame",
        "lord",
        "haji",
        "hajji",
        "alhaj",
        "sheikh",
        "shaykh",
        "sayyid",
        "mullah",
        "general",
        "gen",
        "colonel",
        "col",
        "captain",
        "capt",
        "major",
        "lt",
        "jr",
        "sr",
        "ii",
        "iii",
    ]
)
LEGAL_FORMS = frozenset(
    [
        "llc",
        "ltd",
        "limited",
        "inc",
        "corp",
        "corporation",
        "co",
        "company",
        "sro",
        "gmbh",
        "sa",
        "ag",
        "plc",
        "jsc",
        "ooo",
        "oao",
        "zao",
        "pte",
        "bv",
        "nv",
    ]
)
ARTICLES = frozenset({"the", "of", "and"})
# Korean romanisation variants folded to the DPRK-style spelling the lists mostly use.
ROMANISATION = {
    "park": "pak",
    "bak": "pak",
    "lee": "ri",
    "rhee": "ri",
    "yi": "ri",
    "rhie": "ri",
    "lim": "rim",
    "im": "rim",
    "yim": "rim",
    "choi": "choe",
    "jung": "jong",
    "jeong": "jong",
    "chung": "jong",
    "chong": "jong",
    "gim": "kim",
    "jeon": "jon",
    "chon": "jon",
    "cho": "jo",
    "oh": "o",
    "yoon": "yun",
    "moon": "mun",
    "shin": "sin",
    "hyuk": "hyok",
    "hyeok": "hyok",
    "sung": "song",
    "seong": "song",
    "young": "yong",
    "yeong": "yong",
    "chul": "chol",
    "cheol": "chol",
    "myung": "myong",
    "myeong": "myong",
    "hyun": "hyon",
    "hyeon": "hyon",
    "eun": "un",
    "joon": "jun",
}
_JOINERS = re.compile(r"[.'’`]")
_SEPARATORS = re.compile(r"[^\w]+|_")
_NATIONALITY_ALIASES = {
    "korea north": "kp",
    "north korea": "kp",
    "dprk": "kp",
    "democratic peoples republic of korea": "kp",
    "kp": "kp",
    "prk": "kp",
    "korea south": "kr",
    "south korea": "kr",
    "republic of korea": "kr",
    "kr": "kr",
    "kor": "kr",
}


@lru_cache(maxsize=200_000)
def name_tokens(text: str) -> tuple[str, ...]:
    """Normalised tokens of a name; an empty tuple when nothing name-like is left."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    folded = unicodedata.normalize("NFKC", stripped).casefold()
    folded = _JOINERS.sub("", folded)
    tokens = []
    for token in _SEPARATORS.split(folded):
        if not token or token in HONORIFICS or token in LEGAL_FORMS or token in ARTICLES:
            continue
        tokens.append(ROMANISATION.get(token, token))
    return tuple(tokens)


def joined_variants(tokens: tuple[str, ...]) -> list[tuple[str, ...]]:
    """`tokens` plus each variant with two adjacent tokens written as one.

    ``jin hyok`` and ``jinhyok`` are the same given name written two ways.
    """
    variants = [tokens]
    if 2 <= len(tokens) <= 4:
        for i in range(len(tokens) - 1):
            variants.append((*tokens[:i], tokens[i] + tokens[i + 1], *tokens[i + 2 :]))
    return variants


def normalise_nationality(text: str) -> str:
    key = " ".join(_SEPARATORS.sub(" ", _JOINERS.sub("", text.casefold())).split())
    return _NATIONALITY_ALIASES.get(key, key)


UNMATCHED_BELOW = 0.94
"""A token whose best counterpart is less similar than this counts as (partly) unmatched:
Jaro-Winkler gives one-letter-different short tokens (``hyok``/``hyon``) about 0.88, a
transposition typo in a longer token about 0.95."""
UNMATCHED_WEIGHT = 2.0
SHORT_TOKEN = 3
SHORT_MISMATCH_CAP = 0.85
"""Jaro-Winkler is generous to short strings (``so``/``son`` 0.91, ``ri``/``rim`` 0.91), and
in short romanised syllables one letter is a different name. Two tokens of which one has
at most `SHORT_TOKEN` characters score at most this unless they are equal."""


def token_similarity(a: str, b: str) -> float:
    similarity = JaroWinkler.normalized_similarity(a, b)
    if a != b and min(len(a), len(b)) <= SHORT_TOKEN:
        return min(similarity, SHORT_MISMATCH_CAP)
    return similarity


@dataclass(frozen=True, slots=True)
class Score:
    value: float
    components: tuple[tuple[str, float], ...]
    notes: tuple[str, ...]


def _direction(
    tokens: tuple[str, ...], best: list[float], others: tuple[str, ...], partner: list[int]
) -> tuple[float, float, list[str]]:
    """Length-weighted mean of each token's best similarity, the worst one, and notes."""
    total = 0.0
    weight = 0
    notes = []
    for token, similarity, other in zip(tokens, best, partner, strict=True):
        total += similarity * len(token)
        weight += len(token)
        if similarity < 1.0:
            notes.append(f"{token}~{others[other] if other >= 0 else '-'} {similarity:.2f}")
    return (total / weight if weight else 0.0), min(best), notes


def score_tokens(query: tuple[str, ...], listed: tuple[str, ...]) -> Score:
    """Order-insensitive similarity of two normalised names, in [0, 1], with its parts.

    The mean of both directions, less ``UNMATCHED_WEIGHT x (UNMATCHED_BELOW - worst)``
    when some token (on either side) has no close counterpart: ``KIM JONG HYOK`` is not
    ``RIM JONG HYOK`` even though two of three tokens are equal.
    """
    if not query or not listed:
        return Score(0.0, (("tokens", 0.0),), ("empty name",))
    best_q = [0.0] * len(query)
    best_l = [0.0] * len(listed)
    partner_q = [-1] * len(query)
    partner_l = [-1] * len(listed)
    for i, q in enumerate(query):
        for j, token in enumerate(listed):
            similarity = token_similarity(q, token)
            if similarity > best_q[i]:
                best_q[i], partner_q[i] = similarity, j
            if similarity > best_l[j]:
                best_l[j], partner_l[j] = similarity, i
    forward, worst_f, notes_f = _direction(query, best_q, listed, partner_q)
    backward, worst_b, notes_b = _direction(listed, best_l, query, partner_l)
    penalty = UNMATCHED_WEIGHT * max(0.0, UNMATCHED_BELOW - min(worst_f, worst_b))
    value = max(0.0, (forward + backward) / 2 - penalty)
    notes = tuple(dict.fromkeys(notes_f + notes_b))
    components = (("query_tokens", forward), ("list_tokens", backward), ("unmatched", -penalty))
    return Score(value, components, notes)


def birth_date_adjustment(query: str | None, listed: tuple[str, ...]) -> tuple[float, str]:
    """+0.05 same full date, +0.03 same year, -0.15 every listed year differs, else 0."""
    if not query or not listed:
        return 0.0, ""
    comparable = [d for d in listed if re.match(r"^\d{4}", d)]
    if not comparable:
        return 0.0, ""
    if any(d == query for d in comparable if len(d) == len(query) == 10):
        return 0.05, f"date of birth {query} matches"
    if any(d[:4] == query[:4] for d in comparable):
        return 0.03, f"year of birth {query[:4]} matches"
    return -0.15, f"born {query[:4]}, list says {', '.join(sorted({d[:4] for d in comparable}))}"


def nationality_adjustment(query: str | None, listed: tuple[str, ...]) -> tuple[float, str]:
    """+0.03 when a listed nationality is the same, -0.05 when none is, else 0."""
    if not query or not listed:
        return 0.0, ""
    wanted = normalise_nationality(query)
    if any(normalise_nationality(n) == wanted for n in listed):
        return 0.03, f"nationality {query} matches"
    return -0.05, f"nationality {query} differs from {'; '.join(listed)}"
