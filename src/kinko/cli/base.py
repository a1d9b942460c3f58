"""`kinko init` and `kinko serve` (`kinko demo`: kinko.cli.demo)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kinko.cli.common import (
    EXIT_BAD_INPUT,
    console,
    fail,
    guarded,
    served_settings,
    settings,
    state,
)

if TYPE_CHECKING:
    from kinko.services import Services


def record_policy(services: Services) -> None:
    """Make the configured policy the one in force, as every decision would; refuses one
    whose text two security admins did not approve (403 ``policy_not_approved``, exit 1:
    kinko.policy.proposals), so that a server pointed at another file does not start."""
    with services.ctx.db.transaction() as session:
        services.policy.record_version(session)


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")] = None,
        admin: Annotated[str, typer.Option(help="Username of the first administrator.")] = "admin",
    ) -> None:
        """Create the database, the audit-log signing key and the first administrator."""
        if data_dir is not None:
            state.data_dir = data_dir
        with guarded():
            cfg = settings()
            from kinko.bootstrap import initialise

            enrolment, vkey = initialise(cfg, admin)
        console.print(f"Initialised Kinko in [bold]{cfg.data_dir}[/]")
        console.print(f"Audit-log verifier key: {vkey}")
        console.print(
            f"One-time enrolment secret for [bold]{admin}[/] "
            f"(shown once, store it now): {enrolment}"
        )

    @app.command("serve")
    def serve(
        host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
        port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
        workers: Annotated[
            int,
            typer.Option(
                help="Server processes (about one per core). More than one needs PostgreSQL "
                "and Redis (database_url, redis_url): each is a full server; SQLite is "
                "served by one process (docs/serving.md)."
            ),
        ] = 1,
    ) -> None:
        """Serve the API, the console and the monitor."""
        import uvicorn

        from kinko.context import build_context
        from kinko.logging import configure_logging
        from kinko.server import create_app
        from kinko.services import build_services
        from kinko.serving.processes import check_port_free, check_processes, serve_processes
        from kinko.store.migrate import is_initialised

        with guarded():
            # rp id and origin follow --host/--port (or public_url); a mismatch: exit 2
            cfg = served_settings(host, port)
            configure_logging(cfg.log_level, json=cfg.log_json)
            ctx = build_context(cfg)
            # several processes: PostgreSQL + Redis only (SQLite: exit 2 naming the fix)
            check_processes(ctx, workers)
            if not is_initialised(ctx.db.engine):
                raise fail(
                    f"{cfg.data_dir} is not initialised: run 'kinko init' first", EXIT_BAD_INPUT
                )
            services = build_services(ctx)  # this process's, served below
            record_policy(services)  # a configured policy two admins did not approve: no serving
            bind_host, bind_port = cfg.host, cfg.port
            check_port_free(bind_host, bind_port)  # in use: exit 2, not uvicorn's 3
            from kinko.web import demo_login
            from kinko.web.welcome import serving_lines, show

            # the demo's people sign in on their page: one process, this machine only
            login = workers == 1 and demo_login.enabled(cfg.data_dir, bind_host)
            where = serving_lines(cfg, bind_host, bind_port, demo_login=login, workers=workers)
            if workers > 1:
                show(console, where)
                ctx.db.dispose()  # each process opens its own
                serve_processes(cfg, workers)
                return
            application = create_app(ctx, background=True, services=services)
            if login:
                demo_login.install(application)
        show(console, where)
        # X-Forwarded-For is read by kinko.api.limits (trusted_proxies), never by uvicorn.
        uvicorn.run(
            application, host=bind_host, port=bind_port, log_config=None, proxy_headers=False
        )
