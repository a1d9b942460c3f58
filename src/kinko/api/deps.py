"""Request-scoped dependencies: the context."""

from __future__ import annotations

from fastapi import Request

from kinko.context import Context


async def get_ctx(request: Request) -> Context:
    # async: FastAPI runs a plain `def` dependency in the thread pool, a hop per request.
    ctx: Context = request.app.state.ctx
    return ctx
