"""How commands print: ``--json`` documents, tables that never cut ids, people by name.

Light on purpose (the standard library, typer and rich): `kinko audit verify` uses it and
must start without the database layer. `Names.load` imports the store inside.

- ``--json`` prints one JSON document on stdout (``monitor watch``: one per pass). Ids are
  complete, amounts are integer base units as decimal strings next to their asset, times
  are ISO 8601 in UTC (``2026-11-21T09:00:00.000000Z``). A command that fails with
  ``--json`` still prints a document, ``{"ok": false, "error": CODE, "message": ...}``
  (and ``field`` for bad input), and exits with the same status as without ``--json``.
- Tables keep "whole" columns (ids, addresses, digests: what a later command is given) on
  one line; other columns wrap. When that leaves the others too little room, each row is
  printed as a record of ``column: value`` lines instead (`print_table`): never cut.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from kinko.cli.common import console, echo_json, guarded
from kinko.core.errors import KinkoError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON (its shape is in the docs/ page).")
]

# The least room (with padding) a wrapping column gets before rows print as records.
_WRAP_MIN = 12


def json_time(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z and microseconds (naive datetimes are taken as UTC)."""
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def human_time(value: datetime | None) -> str:
    """Minutes in UTC, for tables: ``2026-11-21 09:00Z``."""
    if value is None:
        return "-"
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%d %H:%MZ")


@contextmanager
def guarded_json(as_json: bool) -> Iterator[None]:
    """`guarded`, and with ``--json`` the error is also a JSON document on stdout."""
    with guarded():
        try:
            yield
        except KinkoError as exc:
            if as_json:
                echo_json({"ok": False, **exc.to_dict()})
            raise


Cell = str | Text | None


def _text(cell: Cell) -> Text:
    # Values are data, never markup: a reason like "[red]" is printed as written.
    if isinstance(cell, Text):
        return cell
    return Text("-" if cell is None else str(cell))


def print_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    whole: Collection[str] = (),
    title: str | None = None,
) -> None:
    """Print a table whose `whole` columns are never wrapped nor cut.

    Other columns wrap (folding long words) to fit the console. When the whole columns
    would leave the others too little room, each row is printed as a record instead
    (``column: value`` lines), so that nothing is ever cut.
    """
    texts = [[_text(cell) for cell in row] for row in rows]
    needed = len(columns) + 1  # the vertical borders
    for index, name in enumerate(columns):
        widest = max((line_width(row[index]) for row in texts), default=0)
        width = max(len(name), widest) + 2  # with the padding
        needed += width if name in whole else min(width, _WRAP_MIN)
    if needed > console.width:
        if title:
            console.print(Text(title, style="italic"), soft_wrap=True)
        for row in texts:
            print_fields(None, zip(columns, row, strict=True))
        return
    table = Table(title=title)
    for name in columns:
        keep = name in whole
        table.add_column(name, no_wrap=keep, overflow="ignore" if keep else "fold")
    for row in texts:
        table.add_row(*row)
    console.print(table)


def line_width(text: Text) -> int:
    return max((Text(line).cell_len for line in text.plain.splitlines()), default=0)


def print_fields(title: str | None, fields: Iterable[tuple[str, Cell]]) -> None:
    """A record as ``label: value`` lines (under `title`, or a blank line): values are
    left to the terminal to wrap, never cut."""
    pairs = [(label, _text(value)) for label, value in fields]
    width = max((len(label) for label, _ in pairs), default=0)
    console.print(Text("" if title is None else title, style="bold"), soft_wrap=True)
    for label, value in pairs:
        line = Text(f"  {label + ':':<{width + 1}} ")
        line.append_text(value)
        console.print(line, soft_wrap=True)


class Names:
    """What people read instead of ids: usernames for users, names for wallets."""

    def __init__(
        self, users: Mapping[str, str] | None = None, wallets: Mapping[str, str] | None = None
    ) -> None:
        self.users = dict(users or {})
        self.wallets = dict(wallets or {})

    @classmethod
    def load(cls, session: Session) -> Names:
        """Every user's username and every wallet's name, in one read each."""
        from sqlalchemy import select

        from kinko.store.tables.custody import WalletRow
        from kinko.store.tables.identity import UserRow

        users = session.execute(select(UserRow.id, UserRow.username)).all()
        wallets = session.execute(select(WalletRow.id, WalletRow.name)).all()
        return cls({u.id: u.username for u in users}, {w.id: w.name for w in wallets})

    def user(self, ref: str | None) -> str:
        """``usr_...`` or an actor ``user:usr_...`` as its username; anything else as is."""
        if not ref:
            return "-"
        user_id = ref.removeprefix("user:")
        return self.users.get(user_id, ref)

    def username(self, user_id: str | None) -> str | None:
        """The username for JSON (None if unknown)."""
        if not user_id:
            return None
        return self.users.get(user_id.removeprefix("user:"))

    def ref(self, value: str | None) -> str:
        """A user (``usr_...``, ``user:usr_...``) or a wallet id by name; anything else as is."""
        if not value:
            return "-"
        if value in self.wallets:
            return self.wallet_with_id(value)
        return self.user(value)

    def wallet(self, wallet_id: str | None) -> str:
        """A wallet's name, or its id if it has none (unknown)."""
        if not wallet_id:
            return "-"
        return self.wallets.get(wallet_id, wallet_id)

    def wallet_with_id(self, wallet_id: str) -> str:
        """``name (wal_...)``: for a record, where the id is needed by later commands."""
        name = self.wallets.get(wallet_id)
        return wallet_id if name is None or name == wallet_id else f"{name} ({wallet_id})"
