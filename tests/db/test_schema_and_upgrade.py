"""The plain tables as defined once (``dailypapers.db.schema``) match what the migrations create, on both backends;
and a database made by the previous release (0.1.0) upgrades without losing papers, embeddings or votes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import inspect

from dailypapers.config import Config
from dailypapers.db.engine import Database
from dailypapers.db.schema import COPY_ORDER, NOT_COPIED, STORE_OWNED, metadata
from dailypapers.library import Library

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1" / "dailypapers.db"
MODEL = "all-MiniLM-L6-v2"


def test_every_plain_table_matches_its_migration(db_config: Config) -> None:
    db = Database(db_config)
    try:
        found = inspect(db.engine)
        for table in metadata.sorted_tables:
            columns = {c["name"]: c for c in found.get_columns(table.name)}
            for column in table.columns:
                assert column.name in columns, f"{table.name}.{column.name} is not in the migrations"
                assert columns[column.name]["nullable"] == column.nullable or column.primary_key, (
                    f"{table.name}.{column.name}: nullable differs"
                )
            if table.name != "papers":  # papers has more columns, owned by the paper stores
                assert set(columns) == {c.name for c in table.columns}, table.name
        plain = {t.name for t in metadata.sorted_tables} - {t.name for t in STORE_OWNED}
        assert {t.name for t in (*COPY_ORDER, *NOT_COPIED)} == plain
    finally:
        db.close()


def test_a_database_of_the_previous_release_upgrades(tmp_path: Path) -> None:
    shutil.copy(FIXTURE, tmp_path / "dailypapers.db")
    lib = Library(Config(password_hash="cheapest", data_dir=tmp_path))
    try:
        applied = lib.init()
        assert "0004_accounts" in applied and "0001_papers" not in applied
        assert lib.papers.count() == 5
        assert lib.store.embedding_counts() == {MODEL: 5}
        assert lib.votes.count() == 3
        paper = lib.store.get_paper("2401.00001")
        assert paper is not None and paper.upvotes == 1 + 2  # imported 1, two anonymous votes kept and counted
        ada = lib.accounts.create_user("ada", "ada@example.org", "correct horse battery")
        assert ada.is_admin  # the first user of an upgraded instance is its admin
        assert lib.votes.cast("2401.00001", ada.voter, True) == 4
        assert lib.votes.voted("anonvoter1", [paper.pk or 0]) == {paper.pk}
        assert lib.init() == []  # nothing left to apply
    finally:
        lib.close()


def test_a_postgres_database_of_the_previous_release_upgrades(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The 0.1.0 schema (migrations 0001-0003) with a paper and anonymous votes, then today's migrations."""
    if request.config.getoption("--backend") == "sqlite":
        pytest.skip("PostgreSQL tests deselected by --backend sqlite")
    import psycopg

    postgres_url: str = request.getfixturevalue("postgres_url")

    from dailypapers.db.migrations import migration_files

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ)")
        for name, script in migration_files("postgres"):
            if name <= "0003":
                conn.execute(script.encode())
                conn.execute("INSERT INTO schema_migrations VALUES (%s, now())", (name,))
        conn.execute(
            "INSERT INTO papers (id, title, title_norm, abstract, added_at, display_date, source, content_hash,"
            " text_hash, upvotes) VALUES ('2401.00001', 'T', 't', 'A', '2024-01-08', '2024-01-08', 'jsonl', 'h',"
            " 'h', 1)"
        )
        conn.execute("INSERT INTO votes (paper_pk, voter) SELECT pk, v FROM papers, (VALUES ('a1'), ('a2')) AS t(v)")
    lib = Library(Config(password_hash="cheapest", data_dir=tmp_path, database_url=postgres_url))
    try:
        assert "0004_accounts" in lib.init()
        paper = lib.store.get_paper("2401.00001")
        assert paper is not None and paper.upvotes == 3 and lib.votes.count() == 2
    finally:
        lib.close()
