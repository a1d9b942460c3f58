"""What differs between SQLite and PostgreSQL, said once: callers ask a question about
the engine ("do rows need locking?", "which INSERT can skip a conflict?"), never its name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


def _dialect_name(bind: Session | Connection) -> str:
    if isinstance(bind, Session):
        return bind.get_bind().dialect.name
    return bind.dialect.name


def locks_rows(bind: Session | Connection) -> bool:
    """True where concurrent writers are serialised by row locks (PostgreSQL:
    ``SELECT ... FOR UPDATE`` is needed); False where the transaction already holds the
    database's single write lock (SQLite under ``BEGIN IMMEDIATE``, kinko.store.db), and a
    ``FOR UPDATE`` would only be a pointless read."""
    return _dialect_name(bind) == "postgresql"


def insert_for(bind: Session | Connection, table: Any) -> Any:
    """The engine's INSERT for `table`, which supports ``on_conflict_do_nothing`` and
    ``on_conflict_do_update`` (both dialects spell them the same way)."""
    maker = postgresql.insert if _dialect_name(bind) == "postgresql" else sqlite.insert
    return maker(table)


def shared_by_processes(engine: Engine) -> bool:
    """True where any number of processes may write at once, each waiting on row locks
    (PostgreSQL); False for SQLite, which ``kinko serve`` serves from one process."""
    return engine.dialect.name == "postgresql"
