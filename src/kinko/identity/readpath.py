"""A read-only path for per-request authentication lookups.

On SQLite every `Database.transaction()` starts with ``BEGIN IMMEDIATE`` (writers
serialise at BEGIN), so using it for the token/session lookup that every API call makes
would serialise all requests on the write lock and, under load, on SQLite's busy-wait
sleeps. Lookups instead use a second, query-only engine: in WAL mode readers never block
and are never blocked. The rare write (last-used time, a new source address) still goes
through `Database.transaction()`. On PostgreSQL the ordinary engine is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

from kinko.context import Context
from kinko.store.db import Database

_engines: WeakKeyDictionary[Database, Engine] = WeakKeyDictionary()


def _pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA query_only=ON")
    cur.close()


def _read_engine(db: Database) -> Engine:
    engine = _engines.get(db)
    if engine is None:
        # Sized like the request thread pool, so lookups do not queue for a connection.
        engine = create_engine(db.url, pool_size=20, max_overflow=30)
        event.listen(engine, "connect", _pragmas)
        _engines[db] = engine
    return engine


@contextmanager
def read_session(ctx: Context) -> Iterator[Session]:
    """A session for lookups only; anything it would write is refused by SQLite."""
    if ctx.db.engine.dialect.name != "sqlite":
        with ctx.db.sessions() as session:
            yield session
        return
    with Session(_read_engine(ctx.db)) as session:
        yield session
