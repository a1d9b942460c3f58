"""`kinko init`, `kinko serve`, `kinko demo`."""

from __future__ import annotations

import os
import secrets
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
from kinko.core.secretfile import (
    PRIVATE_DIR,
    PRIVATE_FILE,
    PUBLIC_FILE,
    create_file,
    make_private_dir,
    write_secret_file,
)

if TYPE_CHECKING:
    from kinko.config import Settings
    from kinko.context import Context


def initialise(cfg: Settings, admin: str) -> tuple[str, str]:
    """Create database, audit-log key, secret key and the first admin.

    Returns (admin enrolment secret, audit verifier key). Refuses if anything exists. Key
    files are written under temporary names and moved into place only after the database
    work committed, so a failure leaves nothing half-initialised behind.
    """
    from kinko.audit.note import generate_signer
    from kinko.context import build_context
    from kinko.core.errors import Conflict
    from kinko.identity.service import IdentityService
    from kinko.store.migrate import is_initialised, upgrade

    key_path = cfg.resolved_audit_key_path
    secret_path = cfg.resolved_secret_key_path
    for path in (key_path, secret_path):
        if path.exists():
            raise Conflict(
                f"{path} already exists: this data directory is initialised; refusing to overwrite"
            )
    make_private_dir(cfg.data_dir)
    cfg.data_dir.chmod(PRIVATE_DIR)  # also when it existed (an empty directory made for it)
    skey, vkey = generate_signer(cfg.audit_origin)
    pending = [
        (key_path.with_name(key_path.name + ".new"), key_path, skey.encode() + b"\n"),
        (secret_path.with_name(secret_path.name + ".new"), secret_path, secrets.token_bytes(32)),
    ]
    for temporary, _, data in pending:
        temporary.unlink(missing_ok=True)
        write_secret_file(temporary, data)
    ctx = build_context(cfg)
    database = ctx.db.engine.url.database
    created_db = ctx.db.engine.url.get_backend_name() == "sqlite" and not (
        database and Path(database).exists()
    )
    try:
        if is_initialised(ctx.db.engine):
            raise Conflict("the database is already initialised; refusing to overwrite")
        if created_db and database:
            # SQLite gives its -wal and -shm files the database file's mode: make it 0600
            # before SQLite creates it with the umask's (0644 under umask 022).
            create_file(Path(database), b"", PRIVATE_FILE)
        # The identity service reads the secret key (TOTP sealing) from its final path.
        os.link(pending[1][0], secret_path)
        upgrade(ctx.db.engine)
        with ctx.db.transaction() as session:
            enrolment = IdentityService(ctx).bootstrap_admin(session, admin)
        os.replace(pending[0][0], key_path)
        vkey_path = cfg.data_dir / "audit-log.vkey"  # public: verifiers need it
        vkey_path.unlink(missing_ok=True)
        create_file(vkey_path, (vkey + "\n").encode(), PUBLIC_FILE)
        return enrolment, vkey
    except BaseException:
        if not key_path.exists():
            secret_path.unlink(missing_ok=True)
            _remove_fresh_sqlite(ctx.db.engine.url.database, created_db)
        raise
    finally:
        for temporary, _, _ in pending:
            temporary.unlink(missing_ok=True)
        ctx.db.dispose()


def record_policy(ctx: Context) -> None:
    """Make the configured policy the one in force, as every decision would; refuses one
    whose text two security admins did not approve (403 ``policy_not_approved``, exit 1:
    kinko.policy.proposals), so that a server pointed at another file does not start."""
    from kinko.policy.service import PolicyService

    with ctx.db.transaction() as session:
        PolicyService(ctx).record_version(session)


def _remove_fresh_sqlite(database: str | None, created: bool) -> None:
    """Undo a SQLite database this failed `init` created, so that it can simply be re-run."""
    if created and database:
        for suffix in ("", "-wal", "-shm", ".writer-lock"):
            Path(database + suffix).unlink(missing_ok=True)


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
                help="HTTP worker processes (about one per core). With more than one, this "
                "process runs the monitor and the periodic jobs for all of them."
            ),
        ] = 1,
    ) -> None:
        """Serve the API, the console and the monitor."""
        import uvicorn

        from kinko.api.app import create_app
        from kinko.api.supervisor import check_port_free, check_workers, serve_workers
        from kinko.context import build_context
        from kinko.logging import configure_logging
        from kinko.store.migrate import is_initialised

        with guarded():
            check_workers(workers)
            # rp id and origin follow --host/--port (or public_url); a mismatch: exit 2
            cfg = served_settings(host, port)
            configure_logging(cfg.log_level, json=cfg.log_json)
            ctx = build_context(cfg)
            if not is_initialised(ctx.db.engine):
                raise fail(
                    f"{cfg.data_dir} is not initialised: run 'kinko init' first", EXIT_BAD_INPUT
                )
            record_policy(ctx)  # a configured policy two admins did not approve: no serving
            bind_host, bind_port = cfg.host, cfg.port
            check_port_free(bind_host, bind_port)  # in use: exit 2, not uvicorn's 3
            from kinko.web import demo_login
            from kinko.web.welcome import serving_lines, show

            # the demo's people sign in on their page: one process, this machine only
            login = workers == 1 and demo_login.enabled(cfg.data_dir, bind_host)
            where = serving_lines(cfg, bind_host, bind_port, demo_login=login, workers=workers)
            if workers > 1:
                show(console, where)
                serve_workers(ctx, host=bind_host, port=bind_port, workers=workers)
                return
            application = create_app(ctx, background=True)
            if login:
                demo_login.install(application)
        show(console, where)
        # X-Forwarded-For is read by kinko.api.limits (trusted_proxies), never by uvicorn.
        uvicorn.run(
            application, host=bind_host, port=bind_port, log_config=None, proxy_headers=False
        )
