"""Shared CLI plumbing: settings and context from options, error to exit-code mapping."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from kinko.core.errors import KinkoError

if TYPE_CHECKING:
    # Loading either builds on SQLAlchemy, pydantic and every service: only commands that
    # open the database pay for it (`kinko --help`, `kinko audit verify` must not).
    from kinko.config import Settings
    from kinko.context import Context
    from kinko.services import Services

console = Console()
# Errors are read by people and by scripts: never hard-wrap them, never parse them as markup.
err_console = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2


class State:
    """Options given before the sub-command (``kinko --data-dir X audit ...``)."""

    data_dir: Path | None = None


state = State()


def settings() -> Settings:
    from kinko.config import load_settings

    return load_settings(overrides={"data_dir": state.data_dir})


def served_settings(host: str | None, port: int | None) -> Settings:
    """Settings of a server bound to `host`:`port` (None: the configured one), whose
    WebAuthn rp id and origin follow the served URL; an explicit rp id or origin that
    does not fit it is refused (`ConfigError`, exit 2)."""
    from kinko.config import check_served_url, load_settings

    cfg = load_settings(overrides={"data_dir": state.data_dir, "host": host, "port": port})
    check_served_url(cfg)
    return cfg


def services() -> Services:
    """The command's services, from the composition root (`kinko.services`): a command is
    one process, and this builds them once for it. Every process that loads a list
    (`kinko lists load` too) re-screens pending withdrawals and the address book; what a
    command does reaches the monitor's rules too (a lazy monitor, acting through them)."""
    from kinko.context import build_context
    from kinko.monitor.lazy import attach_lazy_monitor
    from kinko.services import build_services

    configure_cli_logging()
    ctx = _initialised(build_context(settings()))
    built = build_services(ctx)
    attach_lazy_monitor(ctx, built.monitor_hands)
    return built


def context() -> Context:
    """The command's context (`services().ctx`)."""
    return services().ctx


def _initialised(ctx: Context) -> Context:
    """`ctx`, once its database is known to be initialised (else a clean exit 2)."""
    from kinko.store.ready import require_initialised

    try:
        require_initialised(ctx.db, ctx.settings.data_dir)
    except BaseException:
        ctx.db.dispose()
        raise
    return ctx


def configure_cli_logging() -> None:
    """Logs to stderr, warnings and up, so that stdout (tables, --json) stays clean.

    The root callback calls it before any command but those that must start light
    (`kinko version`, `kinko audit ...`: `audit verify` never loads structlog); `context()`
    calls it for the audit commands that open the database. `kinko serve` reconfigures
    logging from the settings afterwards (JSON by default).
    """
    from kinko.logging import configure_logging

    configure_logging("warning", json=False)


@contextmanager
def open_context() -> Iterator[Context]:
    """The configured context, its database connections closed afterwards."""
    with open_services() as built:
        yield built.ctx


@contextmanager
def open_services() -> Iterator[Services]:
    """The command's services (`services`), their database connections closed afterwards."""
    built = services()
    try:
        yield built
    finally:
        built.ctx.db.dispose()


def local_actor() -> str:
    """Who acts in a command run on the data directory itself (not through the API): the
    operating-system account, as ``local:<name>``."""
    import getpass

    return f"local:{getpass.getuser()}"


def fail(message: str, code: int = EXIT_CHECK_FAILED) -> typer.Exit:
    err_console.print("[bold red]error:[/] ", end="", highlight=False)
    err_console.print(message, markup=False, highlight=False)
    return typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Map `KinkoError` to its exit code with a one-line message; never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except KinkoError as exc:
            raise fail(exc.message, exc.exit_code) from None

    return wrapper


@contextmanager
def guarded() -> Iterator[None]:
    try:
        yield
    except KinkoError as exc:
        raise fail(exc.message, exc.exit_code) from None


def echo_json(value: Any) -> None:
    import json

    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")
