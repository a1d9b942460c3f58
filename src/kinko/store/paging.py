"""The newest rows a caller may see, with a limit that counts only those.

A list filtered after the query (scopes: `kinko.api.scopes`) must not let rows the caller
may not see fill its page and push the caller's own off it: the rows are read page by page
until `limit` visible ones are found or the table ends.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

T = TypeVar("T")


def newest_visible(
    session: Session,
    query: Select[Any],
    *,
    limit: int,
    convert: Callable[[Any], T],
    visible: Callable[[T], bool] | None = None,
) -> list[T]:
    """Up to `limit` rows of `query` (already ordered, one entity per row), converted,
    that `visible` accepts (all when it is None), in the query's order."""
    if visible is None:
        return [convert(r) for r in session.execute(query.limit(limit)).scalars()]
    found: list[T] = []
    for offset in itertools.count(0, limit):
        rows = session.execute(query.offset(offset).limit(limit)).scalars().all()
        for row in rows:
            shown = convert(row)
            if visible(shown):
                found.append(shown)
                if len(found) == limit:
                    return found
        if len(rows) < limit:
            return found
    return found  # pragma: no cover - itertools.count never ends
