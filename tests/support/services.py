"""The composition root of a test (kinko.services): one `Services` per context.

The `services` fixture (tests/conftest.py) and helpers that are handed only a context share
it, as the code of one process shares its root: `services_of(ctx)`.
"""

from __future__ import annotations

from kinko.context import Context
from kinko.services import Services, build_services

_roots: dict[int, Services] = {}


def services_of(ctx: Context) -> Services:
    """The services of the test's process on `ctx`, built on first use."""
    found = _roots.get(id(ctx))
    if found is None or found.ctx is not ctx:
        found = _roots[id(ctx)] = build_services(ctx)
    return found


def adopt(services: Services) -> Services:
    """Make `services` (built with chain nodes or settings of a test's own) the ones
    `services_of` answers for their context."""
    _roots[id(services.ctx)] = services
    return services


def forget(ctx: Context) -> None:
    """Drop `ctx`'s services (the `ctx` fixture does, when the test ends)."""
    _roots.pop(id(ctx), None)
