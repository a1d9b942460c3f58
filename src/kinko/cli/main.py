"""Entry point: ``kinko``. Each domain registers its commands from its own module.

The domain modules are loaded only when one of their commands runs or shows its help:
`kinko --help` lists them from `COMMANDS` below, so that it and `kinko version` start
without the database layer or any service (docs/benchmarks.md, start-up).
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main
from typer import _click
from typer.core import TyperCommand, TyperGroup

from kinko import __version__

# Top-level name -> ("module:function" whose `function(app)` adds it, the help line
# `kinko --help` shows), in the order it lists them: commands, then groups. Keep the lines
# equal to the commands' own help (tests/unit/cli/test_startup_imports.py checks).
COMMANDS: dict[str, tuple[str, str]] = {
    "init": (
        "kinko.cli.base:register",
        "Create the database, the audit-log signing key and the first administrator.",
    ),
    "serve": ("kinko.cli.base:register", "Serve the API, the console and the monitor."),
    "cosign": (
        "kinko.cli.withdrawals:register",
        "Verify a bundle offline exactly as the signer does, then sign it (warm/cold).",
    ),
    "demo": (
        "kinko.cli.demo:register_demo",
        "A sample exchange: walk a withdrawal, show a refused altered bundle, serve.",
    ),
    "login": (
        "kinko.cli.login:register",
        "Sign in (in the browser with your security key, or --totp); the CLI acts as you.",
    ),
    "logout": ("kinko.cli.login:register", "End your session on the server and forget it here."),
    "whoami": ("kinko.cli.login:register", "Who the CLI acts as, and on which server."),
    "audit": ("kinko.cli.audit:register", "The tamper-evident audit log."),
    "user": ("kinko.cli.identity:register", "Staff users."),
    "role": ("kinko.cli.identity:register", "Roles and four-eyes proposals."),
    "mfa": ("kinko.cli.identity:register", "MFA factors."),
    "token": ("kinko.cli.identity:register", "API tokens for the exchange backend."),
    "approval": (
        "kinko.cli.approval:register",
        "The security-key step-up behind every four-eyes approval.",
    ),
    "wallet": ("kinko.cli.custody:register", "Wallets and assets."),
    "custody": ("kinko.cli.custody:register", "Holdings, liabilities, cold share, keys."),
    "liabilities": (
        "kinko.cli.custody_statements:register",
        "Customer liabilities per account: dated statements from the exchange's ledger.",
    ),
    "lists": ("kinko.cli.screening:register", "Sanctions and stolen-funds lists."),
    "screen": ("kinko.cli.screening:register", "Screen addresses and names."),
    "screening": ("kinko.cli.screening_cases:register", "Review cases for name hits."),
    "freeze": ("kinko.cli.policy:register", "Stop outflows at once (one person may freeze)."),
    "unfreeze": (
        "kinko.cli.policy:register",
        "Lift a freeze: a proposal and a second security_admin.",
    ),
    "addressbook": (
        "kinko.cli.policy:register",
        "Destinations warm and cold wallets may send to (four eyes).",
    ),
    "policy": ("kinko.cli.policy:register", "Withdrawal policy files."),
    "withdraw": ("kinko.cli.withdrawals:register", "Request, approve and inspect withdrawals."),
    "signer": ("kinko.cli.withdrawals:register", "The online signer."),
    "monitor": ("kinko.cli.monitor:register", "Detect suspicious access and outflows; respond."),
    "register": (
        "kinko.cli.register:register",
        "The governance register: CISO, staff, training, drills, audits, vendors.",
    ),
    "inspect": (
        "kinko.cli.inspect:register",
        "Self-inspection: the control catalogue and its framework mappings.",
    ),
    "reserves": ("kinko.cli.reserves:register", "Proof of reserves: snapshots, customer proofs."),
    "replay": (
        "kinko.cli.replay:register",
        "The seed incidents against Kinko: historical loss beside Kinko's outcome.",
    ),
}

# Sub-commands that start without configuring logging (which loads structlog): `version`
# logs nothing, and `audit verify` must load nothing beyond the standard library,
# `cryptography` and the CLI framework. The audit commands that open the database
# configure logging through `kinko.cli.common.context()`.
STARTS_LIGHT = frozenset({"version", "audit"})


@cache
def registered(target: str) -> typer.Typer:
    """A Typer holding what the "module:function" `target` adds (imported once)."""
    module_name, _, function = target.partition(":")
    holder = typer.Typer()
    getattr(importlib.import_module(module_name), function)(holder)
    return holder


class LazyGroup(TyperGroup):
    """The root group: lists `COMMANDS` without importing them; loads one when it is used."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._loaded: dict[str, dict[str, _click.Command]] = {}
        self._listing = False

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return [*self.commands, *(name for name in COMMANDS if name not in self.commands)]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        target, help_line = COMMANDS[cmd_name]
        if self._listing:  # `kinko --help`: the name and its line are enough
            return TyperCommand(cmd_name, help=help_line)
        if target not in self._loaded:
            self._loaded[target] = dict(typer.main.get_group(registered(target)).commands)
        return self._loaded[target][cmd_name]

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except _click.exceptions.UsageError as exc:
            from difflib import get_close_matches

            # What Typer does (`suggest_commands`), from every name, not only the loaded ones.
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches:
                suggestions = ", ".join(f"{m!r}" for m in matches)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {suggestions}?"
            raise


app = typer.Typer(
    name="kinko",
    cls=LazyGroup,
    help="Kinko: security control plane for crypto-asset exchanges.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    suggest_commands=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", envvar="KINKO_DATA_DIR", help="Data directory.")
    ] = None,
) -> None:
    from kinko.cli.common import configure_cli_logging, state

    state.data_dir = data_dir
    if ctx.invoked_subcommand not in STARTS_LIGHT:
        configure_cli_logging()


@app.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    app()
