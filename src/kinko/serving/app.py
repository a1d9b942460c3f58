"""uvicorn's app factory for each process of ``kinko serve --workers N`` (PostgreSQL +
Redis; `kinko.serving.processes.serve_processes`): a full app, built from the settings
the process inherits, with its monitor on the Redis stream and the periodic jobs under
their lease, exactly as one ``kinko serve`` on another machine would."""

from __future__ import annotations

from fastapi import FastAPI


def app() -> FastAPI:
    from kinko.config import load_settings
    from kinko.context import build_context
    from kinko.logging import configure_logging
    from kinko.server import create_app

    settings = load_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return create_app(build_context(settings), background=True)
