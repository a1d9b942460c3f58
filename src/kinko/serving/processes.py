"""How ``kinko serve`` runs (docs/serving.md, ADR 0003): one process on SQLite; on
PostgreSQL with Redis any number, each a full app (the monitor:
`kinko.monitor.running.start_monitoring`; the periodic jobs:
`kinko.api.background.jobs_under_lease`). ``--workers N`` starts N of them with uvicorn's
own process manager (`serve_processes`), each building its app from the same settings
(`kinko.serving.app`)."""

from __future__ import annotations

import os
import socket

from kinko.config import Settings
from kinko.context import Context
from kinko.core.errors import ConfigError, InputError
from kinko.store.dialect import shared_by_processes


def check_processes(ctx: Context, workers: int, *, max_workers: int = 64) -> None:
    """Refuse a serving shape that cannot hold: several processes on SQLite (one writer per
    file: exit 2 naming the fix), or on PostgreSQL without the Redis that lets their
    events meet one monitor."""
    if not 1 <= workers <= max_workers:
        raise InputError("--workers", f"must be 1 to {max_workers}; about one per CPU core")
    if workers == 1:
        return
    if not shared_by_processes(ctx.db.engine):
        raise InputError(
            "--workers",
            f"{workers} processes on SQLite: SQLite is served by one process (about "
            "200 withdrawal requests a second, docs/serving.md). Past one process, use "
            "PostgreSQL + Redis (database_url = postgresql+psycopg://..., redis_url = "
            "redis://...; docs/serving.md), or serve without --workers",
        )
    if not ctx.settings.redis_url:
        raise ConfigError(
            "redis_url",
            f"--workers {workers} on PostgreSQL needs Redis, so that every process's "
            "security events reach one monitor: set redis_url (KINKO_REDIS_URL or the key "
            "in kinko.toml; docs/serving.md), or serve without --workers",
        )


def check_port_free(host: str, port: int) -> None:
    """Refuse a port something already listens on (exit 2), before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(
                "--port",
                f"cannot listen on {host}:{port} ({exc.strerror}): stop the server using it, "
                "or choose another --port",
            ) from None


def serve_processes(settings: Settings, workers: int) -> None:
    """Serve with `workers` processes on one port until SIGINT/SIGTERM: uvicorn's process
    manager starts them, replaces one that dies, and stops them all. Each reads the same
    settings (the file and the environment, which it inherits; `host`, `port` and
    `data_dir` are passed on in the environment) and builds its own app
    (`kinko.serving.app`)."""
    import uvicorn

    os.environ["KINKO_HOST"] = settings.host
    os.environ["KINKO_PORT"] = str(settings.port)
    os.environ["KINKO_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run(
        "kinko.serving.app:app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=None,
        proxy_headers=False,  # kinko.api.limits reads X-Forwarded-For
    )
