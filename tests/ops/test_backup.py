"""``dailypapers backup`` / ``restore`` on both backends: a backup taken while a writer imports and votes restores
into a fresh data folder / empty database as a consistent prefix of the writer's work; a quiet backup restores
every table row for row and the same search results; the commands refuse what would lose data."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import date
from itertools import islice
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.ops.backup import backup, restore
from dailypapers.ops.check import run_checks
from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.sources.jsonl import read_jsonl
from tests.demo import DEMO_CORPUS, cli_env, demo_embedder

_numbers = itertools.count(1)
QUERIES = ("dropout regularization", "graph neural networks for molecules", "2612.00007")


@pytest.fixture
def fresh(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Config]]:
    """Makes configurations of new, empty targets: a data folder, or an empty database on the session's server."""
    made: list[str] = []

    def make() -> Config:
        folder = tmp_path / f"restored-{next(_numbers)}"
        if backend == "sqlite":
            return Config(password_hash="cheapest", data_dir=folder)
        import psycopg

        from tests.pg import database_uri

        server: str = request.getfixturevalue("postgres_server")
        name = f"restored_{next(_numbers)}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        made.append(name)
        return Config(password_hash="cheapest", data_dir=folder, database_url=database_uri(server, name))

    yield make
    if made:
        import psycopg

        with psycopg.connect(request.getfixturevalue("postgres_server"), autocommit=True) as conn:
            for name in made:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _paper(n: int) -> Paper:
    return make_paper(source="jsonl", arxiv_id=f"2612.{n:05d}", title=f"Written while backing up {n}",
                      abstract=f"Paper {n} of the writer thread.", added_at=date(2026, 12, 1))  # fmt: skip


class Writer(threading.Thread):
    """Imports paper n, then upvotes it, each in its own transaction; ``acked`` counts the steps that returned."""

    def __init__(self, config: Config) -> None:
        super().__init__(daemon=True)
        self.lib = Library(config)
        self.acked = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for n in itertools.count(1):
                if self.stop.is_set():
                    return
                self.lib.ingest([_paper(n)], index=False)
                self.acked += 1
                assert self.lib.votes.cast(f"2612.{n:05d}", "anon:writer", True) is not None
                self.acked += 1
        except BaseException as exc:  # surfaced by the test
            self.error = exc
        finally:
            self.lib.close()


def _steps_done(lib: Library) -> int:
    """How many writer steps the database holds, checking they are a prefix: papers 1..k, votes on 1..j, j in
    {k-1, k}."""
    with lib.db.read() as conn:
        ids = sorted(r[0] for r in conn.execute(text("SELECT id FROM papers WHERE id LIKE '2612.%'")))
        voted = sorted(
            r[0]
            for r in conn.execute(
                text("SELECT p.id FROM votes v JOIN papers p ON p.pk = v.paper_pk WHERE v.voter = 'anon:writer'")
            )
        )
    k, j = len(ids), len(voted)
    assert ids == [f"2612.{n:05d}" for n in range(1, k + 1)], "papers are not a prefix of the writer's"
    assert voted == ids[:j] and j in (k - 1, k), "votes are not a prefix of the writer's"
    return k + j


DERIVED_META = ("keyword_index",)  # which build of the data folder's keyword index (SQLite) the database records


def _tables(lib: Library) -> dict[str, list[str]]:
    """Every row of every table (as sorted reprs), search-index internals left out (rebuilt, not copied)."""
    rows = {}
    with lib.db.read() as conn:
        for table in lib.store.table_counts():
            found = conn.execute(text(f'SELECT * FROM "{table}"')).fetchall()
            if table == "meta":  # the restore's own keyword index is a new build of the same rows
                found = [r for r in found if r[0] not in DERIVED_META]
            rows[table] = sorted(repr(tuple(r)) for r in found)
    return rows


def _searches(lib: Library) -> list[list[str]]:
    """The ids of the top 20 of each query in each mode."""
    return [
        [r.paper.id for r in lib.search.query(q, mode=mode, page_size=20).results]
        for q in QUERIES
        for mode in ("keyword", "semantic", "hybrid")
    ]


def _same_results(a: list[list[str]], b: list[list[str]]) -> None:
    """Each query finds the same papers: the top 5 of one side are in the top 20 of the other (the order of exact
    ties may differ: the restore's keyword index (tantivy, SQLite) is a fresh build, the source's an incremental
    one), and as many."""
    for one, other in zip(a, b, strict=True):
        assert len(one) == len(other) and set(one[:5]) <= set(other) and set(other[:5]) <= set(one), (one, other)


def _seed(config: Config) -> Library:
    lib = Library(config, embedder=demo_embedder())
    lib.init()
    lib.ingest(islice(read_jsonl(DEMO_CORPUS), 80), added_at=date(2026, 11, 20), progress=False, index=False)
    lib.search.update_index(progress=False)
    return lib


@pytest.mark.slow
def test_backup_under_writes_restores_a_consistent_prefix_and_a_quiet_one_everything(
    db_config: Config, fresh: Callable[[], Config], tmp_path: Path
) -> None:
    lib = _seed(db_config)
    writer = Writer(db_config)
    try:
        writer.start()
        while writer.acked < 40 and writer.is_alive():  # a state, not a time: the writer is well under way
            writer.join(0.01)
        before = writer.acked
        backup(lib, tmp_path / "busy.bak")
        after = writer.acked
        while writer.acked < after + 10 and writer.is_alive():  # and it goes on writing after the backup
            writer.join(0.01)
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error

    target = fresh()
    restore(target, tmp_path / "busy.bak", embedder=demo_embedder())
    restored = Library(target, embedder=demo_embedder())
    try:
        assert before <= _steps_done(restored) <= after
        assert lib.store.table_counts()["papers"] > restored.store.table_counts()["papers"] >= 80 + before // 2
    finally:
        restored.close()

    lib.search.update_index(progress=False)  # the writer's papers, embedded
    report = backup(lib, tmp_path / "quiet.bak")  # nothing writes now: the restore must equal the source
    target = fresh()
    result = restore(target, report.path, embedder=demo_embedder())
    restored = Library(target, embedder=demo_embedder())
    try:
        assert _tables(restored) == _tables(lib)
        assert run_checks(restored).ok, run_checks(restored).as_json()  # `dailypapers check` on the restore
        _same_results(_searches(restored), _searches(lib))
        assert result.tables == lib.store.table_counts()
        if db_config.backend == "sqlite":
            assert result.indexed == lib.papers.count()  # rebuilt from the restored embeddings
    finally:
        restored.close()
        lib.close()


@pytest.mark.slow
def test_the_commands_refuse_what_would_lose_data(
    db_config: Config, fresh: Callable[[], Config], tmp_path: Path
) -> None:
    lib = Library(db_config)
    lib.ingest([_paper(1)], index=False)
    lib.close()
    run = CliRunner().invoke
    target = tmp_path / "one.bak"
    done = run(main, ["backup", str(target)], env=cli_env(db_config))
    assert done.exit_code == 0 and f"database to {target}" in done.output, done.output
    again = run(main, ["backup", str(target)], env=cli_env(db_config))
    assert again.exit_code == 1 and "exists; choose a new file" in again.output

    filled = run(main, ["restore", str(target)], env=cli_env(db_config))  # the source itself holds a paper
    assert filled.exit_code == 1 and "is not empty (papers: 1" in filled.output and "--force" in filled.output
    forced = run(main, ["restore", "--force", str(target)], env=cli_env(db_config))
    assert forced.exit_code == 0 and "restored" in forced.output, forced.output

    other = Config(password_hash="cheapest", data_dir=tmp_path / "other") if db_config.backend == "postgres" else None
    if other is not None:  # a pg_dump archive offered to a SQLite instance
        wrong = run(main, ["restore", str(target)], env=cli_env(other))
        assert wrong.exit_code == 1 and "is a postgres backup but this instance uses sqlite" in wrong.output
    junk = tmp_path / "junk.bak"
    junk.write_bytes(b"not a backup at all")
    bad = run(main, ["restore", str(junk)], env=cli_env(fresh()))
    assert bad.exit_code == 1 and "is not a dailypapers backup" in bad.output
