"""What only the PostgreSQL store has: connection errors, its indexes, the time limit, concurrent writers."""

from __future__ import annotations

import dataclasses
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from psycopg import sql

from dailypapers.config import Config
from dailypapers.papers.store import Filters, StoreError, UpsertCounts, open_store
from dailypapers.papers.store.keyword_plan import KeywordPlan
from dailypapers.papers.store.postgres import PostgresStore
from tests.papers.store.test_store_contract import corpus


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> Iterator[PostgresStore]:
    if request.config.getoption("--backend") == "sqlite":
        pytest.skip("PostgreSQL tests deselected by --backend sqlite")
    st = PostgresStore(request.getfixturevalue("postgres_url"))
    st.migrate()
    yield st
    st.close()


def _plan(store: PostgresStore, statement: sql.Composable | str, params: list[object]) -> str:
    with store._read() as conn, conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask whether the index can be used at all
        query = sql.SQL(statement) if isinstance(statement, str) else statement
        rows = conn.execute(sql.SQL("EXPLAIN ") + query, params).fetchall()
    return "\n".join(r["QUERY PLAN"] for r in rows)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://nobody@/nowhere?host={empty}",  # no server behind the socket folder
        "postgresql://nobody@127.0.0.1:1/nowhere?connect_timeout=2",  # nothing listens on port 1
        "postgresql://host:notaport/db",  # not a valid URL
    ],
)
def test_unreachable_or_bad_url_is_a_store_error(url: str) -> None:
    with tempfile.TemporaryDirectory() as empty, pytest.raises(StoreError, match="cannot connect to PostgreSQL"):
        open_store(Config(database_url=url.format(empty=empty)))


def test_second_store_sees_schema_and_migrates_nothing(pg: PostgresStore) -> None:
    other = PostgresStore(pg.url)
    try:
        assert other.migrate() == []
        pg.meta.set("k", "v")
        assert other.meta.get("k") == "v"
    finally:
        other.close()


def test_query_time_limit(pg: PostgresStore) -> None:
    slow = PostgresStore(pg.url, query_time_limit=0.05)
    try:
        with pytest.raises(StoreError, match="longer than"), slow._read() as conn:
            conn.execute("SELECT pg_sleep(1)")
        assert slow.count_papers() == 0  # the connection is still usable
    finally:
        slow.close()


def test_keyword_search_uses_the_gin_index(pg: PostgresStore) -> None:
    pg.upsert_papers(corpus())
    statement, params = pg._keyword_query(KeywordPlan(("dropout", "training")), 10, Filters())
    assert "papers_tsv" in _plan(pg, statement, params)


def test_pgvector_search_uses_one_hnsw_index_per_model_and_dimension(pg: PostgresStore) -> None:
    pg.upsert_papers(corpus())
    papers = [p for batch in pg.papers_needing_embedding("a") for p in batch]
    rng = np.random.default_rng(1)
    pg.save_embeddings("a", [(p, rng.standard_normal(8)) for p in papers])
    pg.save_embeddings("b'; --", [(p, rng.standard_normal(16)) for p in papers[:50]])  # quoted as a literal
    with pg._read() as conn:
        names = {
            r["indexname"]
            for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'embeddings' AND schemaname = current_schema()"
            )
        }
    assert len([n for n in names if n.startswith("embeddings_hnsw_")]) == 2
    for model, dim, filters in [("a", 8, Filters()), ("a", 8, Filters(author="ada2")), ("b'; --", 16, Filters())]:
        query = rng.standard_normal(dim).astype(np.float32)
        statement, params = pg._vector_query(model, query, 5, filters)
        assert "embeddings_hnsw_" in _plan(pg, statement, params)
        hits = pg.pgvector_search(model, query, 5, filters)
        assert hits is not None and len(hits) == 5
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert pg.pgvector_search("a", np.ones(16, dtype=np.float32), 5) == []  # no vectors of that dimension


def test_concurrent_writers_do_not_duplicate(pg: PostgresStore) -> None:
    papers = corpus()
    batches = [papers[:200], papers[100:], papers[50:250]]
    results: list[UpsertCounts] = []
    errors: list[BaseException] = []

    def work(batch: list[object]) -> None:
        try:
            results.append(pg.upsert_papers(batch))  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r.added for r in results) == len(papers) == pg.count_papers()
    assert sum(r.unchanged for r in results) == sum(len(b) for b in batches) - len(papers)


@contextmanager
def new_database(request: pytest.FixtureRequest, name: str) -> Iterator[str]:
    """The URI of a new, empty database ``name`` on the test server, dropped afterwards."""
    if request.config.getoption("--backend") == "sqlite":
        pytest.skip("PostgreSQL tests deselected by --backend sqlite")
    import psycopg

    from tests.pg import database_uri

    server = request.getfixturevalue("postgres_server")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_uri(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_migrate_creates_the_extension_in_a_new_database(request: pytest.FixtureRequest) -> None:
    """The per-test schemas share a pre-made extension; here the migration has to create it itself."""
    with new_database(request, "fresh") as url:
        st = PostgresStore(url)  # its pool connects before the extension exists
        try:
            assert st.migrate() == [
                "0001_papers",
                "0002_votes",
                "0003_keyword_layout",
                "0004_accounts",
                "0005_community",
                "0006_jobs",
                "0007_inbox",
                "0008_term_statistics",
                "0009_account_email",
                "0010_topics",
            ]
            st.upsert_papers(corpus()[:20])
            papers = [p for batch in st.papers_needing_embedding("m") for p in batch]
            st.save_embeddings("m", [(p, np.full(4, i + 1.0)) for i, p in enumerate(papers)])
            hits = st.pgvector_search("m", np.array([1.0, 1.0, 1.0, 1.0]), 3)
            assert hits is not None and len(hits) == 3 and hits[0].score == pytest.approx(1.0)
        finally:
            st.close()


def test_the_keyword_layout_migration_keeps_papers_and_keeps_tsv_in_the_row(request: pytest.FixtureRequest) -> None:
    """0003 rewrites ``papers`` of an instance made before it: nothing is lost, search still finds the papers, and
    a scored row's tsvector is read from the row itself, not from TOAST (the long abstract goes there instead)."""
    import psycopg

    from dailypapers.db.migrations import migration_files

    with new_database(request, "before_0003") as url:
        with psycopg.connect(url, autocommit=True) as conn:  # the schema as an instance made before 0003 has it
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ)")
            for name, script in migration_files("postgres")[:2]:
                conn.execute(script.encode())
                conn.execute("INSERT INTO schema_migrations VALUES (%s, now())", (name,))
        st = PostgresStore(url)
        try:
            # Without authors: today's store also writes authors.slug, a column from 0005.
            anonymous = [dataclasses.replace(p, authors=[], affiliations=[]) for p in corpus()[:30]]
            long_one = dataclasses.replace(anonymous[0], abstract=" ".join(anonymous[0].abstract.split() * 12))
            papers = [long_one, *anonymous[1:]]
            st.upsert_papers(papers)
            assert st.migrate() == [
                "0003_keyword_layout", "0004_accounts", "0005_community", "0006_jobs", "0007_inbox",
                "0008_term_statistics", "0009_account_email", "0010_topics",
            ]  # fmt: skip
            assert st.count_papers() == len(papers)
            stored = st.get_paper(long_one.id)
            assert stored is not None and stored.abstract == long_one.abstract
            assert stored.pk in {h.pk for h in st.keyword_search(long_one.title.split()[0], 10)}
            row = st._row(
                "SELECT pg_column_toast_chunk_id(tsv) AS tsv_toast,"
                " pg_column_toast_chunk_id(abstract) AS abstract_toast FROM papers WHERE id = %s",
                (long_one.id,),
            )
            assert row is not None and row["tsv_toast"] is None and row["abstract_toast"] is not None
        finally:
            st.close()


def test_common_words_are_not_counted_when_statistics_show_them_far_over_the_cap(pg: PostgresStore) -> None:
    pg.upsert_papers(corpus())
    learning = pg._row("SELECT count(*) AS n FROM papers WHERE tsv @@ plainto_tsquery('english', 'learning')")
    assert learning is not None and learning["n"] > 40
    assert pg._count_term("learning", 5) == 5  # counted, up to the cap, before any statistics exist
    with pg._read() as conn:
        conn.execute("ANALYZE papers")
    assert 0.5 * learning["n"] <= pg._estimated_matches("learning") <= 2 * learning["n"]
    assert pg._count_term("learning", 5) == 5  # now taken from the statistics
    assert pg._count_term("learning", 10_000) == learning["n"]  # under the cap: an exact count
    assert pg._count_term("dropout", 10_000) == len(pg.keyword_search("dropout", 500)) > 0  # a rarer word: counted


def test_a_long_texts_common_terms_take_their_frequency_from_the_statistics(pg: PostgresStore) -> None:
    papers = corpus()
    pg.upsert_papers(papers[:200])

    def counted(term: str) -> int:
        row = pg._row("SELECT count(*) AS n FROM papers WHERE tsv @@ plainto_tsquery('english', %s)", (term,))
        return int(row["n"]) if row else 0

    terms = ["learning", "models", "dropout", "the", "qwxzv"]
    before = {t: counted(t) for t in terms}
    assert before["learning"] > 40 and before["dropout"] > 0 and before["the"] == before["qwxzv"] == 0
    assert pg._text_frequencies(terms, 10_000) == before  # no statistics yet: every term counted
    assert pg._text_frequencies(terms, 5)["learning"] == 5  # counted up to the cap
    with pg._read() as conn:
        conn.execute("ANALYZE papers")  # 200 rows: the sample is the whole table, so the frequencies are exact
    pg.upsert_papers(papers[200:])  # the statistics now lag behind the table
    after = {t: counted(t) for t in terms}
    assert after["learning"] > before["learning"]
    frequencies = pg._text_frequencies(terms, 10_000)
    assert frequencies["learning"] == before["learning"]  # listed in the statistics: taken from there, uncounted
    assert frequencies["models"] == before["models"]
    assert pg._text_frequencies(terms, 5)["learning"] == 5  # still capped
    assert frequencies["qwxzv"] == 0 and frequencies["the"] == 0
    assert pg._count_term("learning", 10_000) == after["learning"]  # a short query's count stays exact
