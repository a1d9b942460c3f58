"""Entry point: ``kinko``. Each domain registers its commands from its own module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kinko import __version__
from kinko.cli import audit, base, custody, identity, monitor, policy, screening, withdrawals
from kinko.cli.common import state
from kinko.logging import configure_logging

app = typer.Typer(
    name="kinko",
    help="Kinko: security control plane for crypto-asset exchanges.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", envvar="KINKO_DATA_DIR", help="Data directory.")
    ] = None,
) -> None:
    state.data_dir = data_dir
    # Logs go to stderr, so that stdout (tables, --json) stays clean for scripts;
    # `kinko serve` reconfigures them from the settings (JSON by default).
    configure_logging("warning", json=False)


@app.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


for module in (base, audit, identity, custody, screening, policy, withdrawals, monitor):
    module.register(app)


def main() -> None:
    app()
