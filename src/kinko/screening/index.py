"""The in-memory address index: comparison key -> hits. Rebuilt whenever versions change."""

from __future__ import annotations

from collections.abc import Iterable

from kinko.screening.model import AddressHit


class AddressIndex:
    """A dict lookup per screening: O(1), about a microsecond or less per address."""

    __slots__ = ("_hits",)

    def __init__(self, entries: Iterable[tuple[str, AddressHit]]) -> None:
        hits: dict[str, list[AddressHit]] = {}
        for key, hit in entries:
            bucket = hits.setdefault(key, [])
            if hit not in bucket:
                bucket.append(hit)
        self._hits: dict[str, tuple[AddressHit, ...]] = {k: tuple(v) for k, v in hits.items()}

    def lookup(self, key: str) -> tuple[AddressHit, ...]:
        return self._hits.get(key, ())

    def __len__(self) -> int:
        return len(self._hits)
