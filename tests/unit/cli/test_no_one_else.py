"""No command lets anyone act as someone else (issue 13, attack 5): there is no ``--as``.

The CLI acts for a person only with that person's own credential (docs/cli.md); every
command of every group, loaded as `kinko GROUP --help` loads it, is checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer.main
from typer.testing import CliRunner

from kinko.cli.main import COMMANDS, app, registered


def every_command() -> Iterator[tuple[str, Any]]:
    def walk(prefix: str, command: Any) -> Iterator[tuple[str, Any]]:
        yield prefix, command
        for name, sub in getattr(command, "commands", {}).items():  # a group's commands
            yield from walk(f"{prefix} {name}", sub)

    for name, (target, _) in COMMANDS.items():
        group = typer.main.get_group(registered(target))
        yield from walk(f"kinko {name}", group.commands[name])


def test_no_command_takes_as() -> None:
    checked = 0
    for path, command in every_command():
        for param in command.params:
            names = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
            assert "--as" not in names, f"{path} still takes --as"
            assert param.name not in {"as_user", "actor"}, f"{path} names an actor"
        checked += 1
    assert checked > 60  # every command, not a handful


def test_as_is_refused_as_an_unknown_option() -> None:
    result = CliRunner().invoke(app, ["freeze", "all", "--reason", "x", "--as", "sec1"])
    assert result.exit_code == 2 and "No such option: --as" in result.output
