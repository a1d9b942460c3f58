"""`kinko demo`: the sample exchange (kinko.demo) walked, then served."""

from __future__ import annotations

from typing import Annotated

import typer


def register_demo(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after the walk.")] = False,
        host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
        port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    ) -> None:
        """A sample exchange: walk a withdrawal, show a refused altered bundle, serve."""
        from kinko.cli.common import console, guarded, served_settings
        from kinko.demo.walk import run_demo
        from kinko.web.welcome import after_demo_lines, serving_lines, show

        with guarded():
            # the demo's security keys follow --host/--port too (kinko.core.urls)
            cfg = served_settings(host, port)
            if not no_serve:  # before the walk: a port in use is exit 2, not uvicorn's 3
                from kinko.serving.processes import check_port_free

                check_port_free(cfg.host, cfg.port)
            walked = run_demo(cfg, console)
        ctx = walked.ctx
        if no_serve:
            ctx.db.dispose()
            show(console, after_demo_lines(ctx.settings))
            return
        import uvicorn

        from kinko.server import create_app
        from kinko.web import demo_login

        bind_host, bind_port = cfg.host, cfg.port
        # The walk's services (on the demo's in-process chain) serve the console.
        application = create_app(ctx, services=walked.services)
        login = demo_login.enabled(cfg.data_dir, bind_host)
        if login:
            demo_login.install(application)
        console.rule("serving")
        show(console, serving_lines(ctx.settings, bind_host, bind_port, demo_login=login))
        uvicorn.run(application, host=bind_host, port=bind_port, log_config=None)
