"""A blocked index over list names so that screening many people stays fast.

Blocking: every token of every list name form (primary, aliases, original script, and
the joined variants of `names.joined_variants`) goes into a vocabulary bucketed by its
first character. A query token finds its similar vocabulary tokens with one
`rapidfuzz.process.extract` call (Jaro-Winkler, C speed) in its bucket; the result is
cached, because names repeat. A list name form becomes a candidate when it shares similar
tokens with two query tokens (one for one-token names), and only candidates are scored
in full. A typo in the first letter of *every* token escapes blocking; with Jaro-Winkler
such a pair would score below the review threshold anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from kinko.screening.model import ListName, NameHit, VersionId
from kinko.screening.names import (
    birth_date_adjustment,
    joined_variants,
    name_tokens,
    nationality_adjustment,
    score_tokens,
)

TOKEN_CUTOFF = 0.84
"""Two tokens at least this similar may belong to the same name (blocking only)."""
JOINED_MIN = 0.95
"""A token made by joining two (``jinhyok``) must match this closely to count: joined
strings share long prefixes, which Jaro-Winkler rewards generously."""
PREFILTER = 0.82
"""Blocking's last step, in C: Jaro-Winkler of the token-sorted names. On 5,000 generated
variants (romanised, joined, reordered, typo'd; bench/_screening_data.py) the lowest true
pair was 0.856; only candidates at or above this are scored in full."""


@dataclass(frozen=True, slots=True)
class IndexedEntity:
    list_name: ListName
    version_id: VersionId
    ref: str
    name: str
    names: tuple[str, ...]
    """Every name the entity is listed under, primary first."""
    birth_dates: tuple[str, ...] = ()
    nationalities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Form:
    tokens: tuple[str, ...]
    written: str
    entity: int
    joined: frozenset[str]


class _Vocabulary:
    """Tokens bucketed by first character, each with the forms that contain it."""

    def __init__(self, postings: dict[str, list[int]]) -> None:
        self.postings = {token: frozenset(ids) for token, ids in postings.items()}
        self.buckets: dict[str, list[str]] = {}
        for token in self.postings:
            self.buckets.setdefault(token[0], []).append(token)

    def similar(self, token: str, cutoff: float) -> set[int]:
        found: set[int] = set()
        for match, _score, _pos in process.extract(
            token,
            self.buckets.get(token[0], []),
            scorer=JaroWinkler.normalized_similarity,
            score_cutoff=cutoff,
            limit=None,
        ):
            found |= self.postings[match]
        return found


class NameIndex:
    def __init__(self, entities: Iterable[IndexedEntity]) -> None:
        self.entities: list[IndexedEntity] = list(entities)
        self._forms: list[_Form] = []
        plain_postings: dict[str, list[int]] = {}
        joined_postings: dict[str, list[int]] = {}
        for number, entity in enumerate(self.entities):
            seen: set[tuple[str, ...]] = set()
            for written in entity.names:
                plain = name_tokens(written)
                for tokens in joined_variants(plain):
                    if not tokens or tokens in seen:
                        continue
                    seen.add(tokens)
                    form_id = len(self._forms)
                    joined = frozenset(tokens) - frozenset(plain)
                    self._forms.append(_Form(tokens, written, number, joined))
                    for token in set(tokens):
                        target = joined_postings if token in joined else plain_postings
                        target.setdefault(token, []).append(form_id)
        self._plain = _Vocabulary(plain_postings)
        self._joined = _Vocabulary(joined_postings)
        self._sorted_text = [" ".join(sorted(form.tokens)) for form in self._forms]
        self._single = frozenset(i for i, form in enumerate(self._forms) if len(form.tokens) == 1)
        self._similar: dict[tuple[str, bool], frozenset[int]] = {}

    def __len__(self) -> int:
        return len(self.entities)

    @property
    def form_count(self) -> int:
        return len(self._forms)

    def _similar_forms(self, token: str, joined: bool) -> frozenset[int]:
        key = (token, joined)
        cached = self._similar.get(key)
        if cached is not None:
            return cached
        if joined:
            # A joined query token stands for two tokens written as one: it must be
            # written the same way on the list (typos are caught by the plain variant).
            found = set(self._plain.postings.get(token, ()))
        else:
            found = self._plain.similar(token, TOKEN_CUTOFF)
        found |= self._joined.postings.get(token, frozenset())
        result = frozenset(found)
        if len(self._similar) < 500_000:
            self._similar[key] = result
        return result

    def _candidates(self, tokens: tuple[str, ...], joined: frozenset[str]) -> list[int]:
        sets = [self._similar_forms(t, t in joined) for t in dict.fromkeys(tokens)]
        if len(sets) == 1:
            found = set(sets[0])
        else:
            found = set()
            for i, first in enumerate(sets):
                found |= first & self._single
                for second in sets[i + 1 :]:
                    found |= first & second
        if not found:
            return []
        ids = list(found)
        texts = [self._sorted_text[i] for i in ids]
        survivors = process.extract(
            " ".join(sorted(tokens)),
            texts,
            scorer=JaroWinkler.normalized_similarity,
            score_cutoff=PREFILTER,
            limit=None,
        )
        return [ids[position] for _text, _score, position in survivors]

    def match(
        self,
        name: str,
        *,
        threshold: float,
        dob: str | None = None,
        nationality: str | None = None,
    ) -> list[NameHit]:
        """Entities whose best-scoring name form reaches `threshold`, best first."""
        best: dict[int, NameHit] = {}
        plain = name_tokens(name)
        for query in joined_variants(plain):
            if not query:
                continue
            joined = frozenset(query) - frozenset(plain)
            for form_id in self._candidates(query, joined):
                form = self._forms[form_id]
                if (joined and not _joined_tokens_match(joined, form.tokens)) or (
                    form.joined and not _joined_tokens_match(form.joined, query)
                ):
                    continue
                hit = self._score(name, query, form, threshold, dob=dob, nationality=nationality)
                if hit is None:
                    continue
                current = best.get(form.entity)
                if current is None or hit.score > current.score:
                    best[form.entity] = hit
        return sorted(best.values(), key=lambda h: (-h.score, h.list_name, h.entity_ref))

    def _score(
        self,
        name: str,
        query: tuple[str, ...],
        form: _Form,
        threshold: float,
        *,
        dob: str | None,
        nationality: str | None,
    ) -> NameHit | None:
        entity = self.entities[form.entity]
        score = score_tokens(query, form.tokens)
        dob_delta, dob_note = birth_date_adjustment(dob, entity.birth_dates)
        nat_delta, nat_note = nationality_adjustment(nationality, entity.nationalities)
        value = min(1.0, max(0.0, score.value + dob_delta + nat_delta))
        if value < threshold:
            return None
        components = (
            *score.components,
            ("date_of_birth", dob_delta),
            ("nationality", nat_delta),
        )
        kind = "primary name" if form.written == entity.name else "alias"
        parts = [f"'{name}' ~ {kind} '{form.written}' of {entity.name} ({entity.list_name} "]
        parts[0] += f"{entity.ref}): name {score.value:.2f}"
        if score.notes:
            parts.append("tokens " + ", ".join(score.notes))
        else:
            parts.append("all tokens equal after normalisation")
        parts.extend(note for note in (dob_note, nat_note) if note)
        return NameHit(
            list_name=entity.list_name,
            version_id=entity.version_id,
            entity_ref=entity.ref,
            entity_name=entity.name,
            matched_name=form.written,
            score=value,
            components=components,
            explanation="; ".join(parts) + f"; total {value:.2f}",
        )


def _joined_tokens_match(joined: frozenset[str], other: tuple[str, ...]) -> bool:
    return all(
        max(JaroWinkler.normalized_similarity(token, o) for o in other) >= JOINED_MIN
        for token in joined
    )
