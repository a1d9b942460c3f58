"""Fixtures shared by the whole suite.

Database tests take the `ctx` (or `db`) fixture, which is parametrised over SQLite and a
real PostgreSQL server. The server is started once per run by the controlling process
(initdb + pg_ctl in a temp dir, socket inside it); each xdist worker gets its own database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

import kinko.store.tables  # noqa: F401
from kinko.config import Settings
from kinko.context import Context, build_context
from kinko.core.clock import FixedClock
from kinko.services import Services
from kinko.store.base import Base
from tests.support.clock import RUN_STARTED
from tests.support.servers import PostgresServer
from tests.support.services import forget, services_of

# Property tests check behaviour, not speed: on a loaded 2-core CI machine a per-example
# deadline would only make them flaky.
hypothesis_settings.register_profile(
    "kinko", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("kinko")

PG_ENV = "KINKO_TEST_PG_URL"
_server: PostgresServer | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _server
    if os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get(PG_ENV):
        return
    _server = PostgresServer().start()
    os.environ[PG_ENV] = _server.url
    os.environ["KINKO_TEST_PG_HOST"] = str(_server.root)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _server is not None:
        _server.stop()


def _worker_database() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"kinko_test_{worker}"
    host = os.environ["KINKO_TEST_PG_HOST"]
    with psycopg.connect(f"host={host} user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@/{name}?host={host}"


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A database of this worker's own on the run's PostgreSQL server, with the schema."""
    url = _worker_database()
    from sqlalchemy import create_engine

    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (for `kinko init` and migrations), per backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"kinko_empty_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{tmp_path.name}"[:63]
    host = os.environ["KINKO_TEST_PG_HOST"]
    admin = f"host={host} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@/{name}?host={host}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock at the real time the run started (tests/support/clock.py says why)."""
    return FixedClock(RUN_STARTED)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'kinko.db'}"
    if backend == "postgresql":
        url = request.getfixturevalue("pg_url")
    return Settings(data_dir=data_dir, database_url=url, log_json=False)


@pytest.fixture
def ctx(settings: Settings, clock: FixedClock, backend: str) -> Iterator[Context]:
    """A context on a fresh, empty schema for the parametrised backend."""
    context = build_context(settings, clock=clock)
    if backend == "sqlite":
        Base.metadata.create_all(context.db.engine)
    else:
        _truncate_all(context)
    yield context
    forget(context)
    context.db.dispose()


@pytest.fixture
def services(ctx: Context) -> Services:
    """The services of a process on `ctx`, from the composition root (kinko.services), as
    the API, the CLI and the demo build them."""
    return services_of(ctx)


def _truncate_all(context: Context) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with context.db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
