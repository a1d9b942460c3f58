"""Request-scoped dependencies: the context."""

from __future__ import annotations

from fastapi import Request

from kinko.context import Context


def get_ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx
