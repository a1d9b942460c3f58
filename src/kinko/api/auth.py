"""Authorisation in one place: every route declares `public()` or `require(permission)`.

OWNED BY THE IDENTITY WORK (issue 3): this fail-closed placeholder refuses every
non-public request until sessions and API tokens exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends

from kinko.core.errors import AuthenticationError


def _public() -> None:
    return None


def public() -> Any:
    """Mark a route as reachable without credentials (health, login, public log data)."""
    return Depends(_public)


def require(permission: str) -> Callable[..., Any]:
    def dependency() -> Any:
        raise AuthenticationError("authentication required")

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency
