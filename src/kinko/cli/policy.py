"""CLI commands for policy (freeze, unfreeze, address book, policy)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this domain's commands to `app`."""
