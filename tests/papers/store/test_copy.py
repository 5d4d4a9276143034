"""``dailypapers db copy --to URL`` and ``db migrate``: SQLite -> PostgreSQL and back, through the real CLI.

The source holds the store-contract corpus (298 papers with authors, categories, days, upvotes), a few rich arXiv
papers, embeddings of two models (one of them stale), meta values, users with a session and a token, and votes.
After the copy, every paper is equal field by field, vectors are equal bit for bit under the target's own keys,
every row of every plain table is there (votes under the target's paper keys), and the counts agree.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from dailypapers.accounts.service import Accounts
from dailypapers.cli import main
from dailypapers.community.votes import Votes
from dailypapers.config import Config
from dailypapers.db.migrations import migration_files
from dailypapers.db.schema import COPY_ORDER, papers, votes
from dailypapers.papers.copy import COPIED_TABLES, copy_store, mismatches
from dailypapers.papers.store import Filters, Store, open_store
from tests.demo import cli_env
from tests.papers.store.test_store_contract import arxiv_paper, corpus

MODELS = {"model-a": 8, "model-b": 3}
N_PAPERS = 298 + 2


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    if request.config.getoption("--backend") == "sqlite":
        pytest.skip("PostgreSQL tests deselected by --backend sqlite")
    return str(request.getfixturevalue("postgres_url"))


def fill(store: Store) -> None:
    """The source instance: corpus, rich arXiv papers, embeddings of two models (one stale), meta, a user with a
    session and a token, anonymous and user votes."""
    store.upsert_papers(corpus())
    lora = arxiv_paper(
        "LoRA: Low-Rank Adaptation of Large Language Models",
        "We propose LoRA. Code: https://github.com/microsoft/LoRA",
        arxiv_id="2106.09685v2",
        authors=["Edward J. Hu", "Yelong Shen"],
        affiliations=["Microsoft", None],
        categories=["cs.CL", "cs.LG"],
        primary_category="cs.CL",
        published=datetime(2021, 6, 17, 17, 37, 18, tzinfo=UTC),
        updated=datetime(2021, 10, 16, 18, 40, 34, tzinfo=UTC),
        comment="Draft V2",
        doi="10.48550/arXiv.2106.09685",
        upvotes=42,
        added_at=date(2026, 11, 20),
    )
    store.upsert_papers([lora, arxiv_paper(arxiv_id="2411.01234v3", upvotes=5)])
    papers = [p for batch in store.papers_needing_embedding("model-a") for p in batch]
    rng = np.random.default_rng(7)
    for model, dim in MODELS.items():
        chosen = papers if model == "model-a" else papers[:25]
        store.save_embeddings(model, [(p, rng.standard_normal(dim).astype(np.float32)) for p in chosen])
    stale = papers[3]  # its abstract changes after embedding: the copy leaves its embeddings out
    store.upsert_papers([dataclasses.replace(stale, abstract=stale.abstract + " Revised.", pk=None)])
    db = store.db
    ada = Accounts(db).create_user("ada", "ada@example.org", "correct horse battery")
    Accounts(db).start_session(ada, "Firefox")
    Accounts(db).create_token(ada, "laptop")
    votes = Votes(db)
    for voter in ("ann", ada.voter):  # community votes on top of LoRA's 42 imported upvotes
        votes.cast("2106.09685", voter, True)
    votes.cast(stale.id, "ann", True)
    store.meta.set("job:ingest:last_run", "2026-11-20T06:00:00+00:00")
    store.meta.set("greeting", "héllo ✓")


def env_for(data_dir: Path, url: str = "") -> dict[str, str | None]:
    return cli_env(Config(password_hash="cheapest", data_dir=data_dir, database_url=url))


def cli(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def stale_pk(store: Store) -> int:
    paper = next(p for p in store.iter_papers() if p.abstract.endswith(" Revised."))
    assert paper.pk is not None
    return paper.pk


def plain_rows(store: Store) -> dict[str, set[tuple[object, ...]]]:
    """Every row of every copied plain table, votes by paper id (the keys differ between databases)."""
    with store.db.read() as conn:
        rows = {t.name: set(map(tuple, conn.execute(select(t)).all())) for t in COPY_ORDER if t.name != "votes"}
        joined = select(papers.c.id, votes.c.voter, votes.c.created_at).join(papers, papers.c.pk == votes.c.paper_pk)
        rows["votes"] = set(map(tuple, conn.execute(joined).all()))
    assert rows["users"] and rows["sessions"] and rows["api_tokens"] and len(rows["votes"]) == 3
    return rows


def assert_same(src: Store, dst: Store) -> None:
    """Every paper, vector and meta value of ``src`` is in ``dst`` (under other keys); the stale vector is not."""
    assert dst.count_papers() == src.count_papers() == N_PAPERS
    dst_pk: dict[str, int] = {}
    for paper in src.iter_papers():
        copied = dst.get_paper(paper.id)
        assert copied is not None and copied.pk is not None
        assert dataclasses.replace(copied, pk=paper.pk) == paper  # every field: added_at, upvotes, version, ...
        dst_pk[paper.id] = copied.pk
    lora = dst.get_paper("2106.09685")
    assert lora is not None
    assert (lora.upvotes, lora.votes, lora.version, lora.affiliations) == (44, 2, 2, ["Microsoft", None])
    assert plain_rows(src) == plain_rows(dst)
    stale_id = src.get_papers_by_pk([stale_pk(src)])[0].id
    for model, dim in MODELS.items():
        n = 0
        for pks, vectors in src.iter_embeddings(model):
            for paper, vector in zip(src.get_papers_by_pk(pks.tolist()), vectors, strict=True):
                copied_vector = dst.get_embedding(model, dst_pk[paper.id])
                if paper.id == stale_id:
                    assert copied_vector is None
                    continue
                assert copied_vector is not None and copied_vector.shape == (dim,)
                assert np.array_equal(copied_vector, vector)
                n += 1
        assert dst.embedding_counts()[model] == n
    assert dst.count_needing_embedding("model-a") == 1  # only the stale paper is left to embed
    assert dst.meta.items() == src.meta.items()
    # The target's own indexes work: keyword search and filters.
    assert [dst.get_papers_by_pk([h.pk])[0].id for h in dst.keyword_search("Yelong", 5)] == ["2106.09685"]
    assert len(dst.filter_pks(Filters(category="cs.CL"))) == len(src.filter_pks(Filters(category="cs.CL")))


def test_sqlite_to_postgres_and_refusing_a_non_empty_target(tmp_path: Path, pg_url: str) -> None:
    src = open_store(Config(password_hash="cheapest", data_dir=tmp_path))
    src.migrate()
    fill(src)
    result = cli(env_for(tmp_path), "db", "copy", "--to", pg_url, "--batch", "64")
    assert result.exit_code == 0, result.output
    assert f"papers: {N_PAPERS} -> {N_PAPERS}" in result.output
    assert "embeddings[model-a]: 299 -> 299" in result.output  # 300 embedded, 1 stale
    assert "copied to PostgreSQL" in result.output
    dst = open_store(Config(database_url=pg_url))
    try:
        assert_same(src, dst)
        again = cli(env_for(tmp_path), "db", "copy", "--to", pg_url)
        assert again.exit_code == 1
        assert "is not empty (" in again.output and "papers: 300" in again.output and "--force" in again.output
        forced = cli(env_for(tmp_path), "db", "copy", "--to", pg_url, "--force")
        assert forced.exit_code == 0, forced.output  # the same data again: counts still agree
        assert dst.count_papers() == N_PAPERS
    finally:
        dst.close()
        src.close()


def test_postgres_to_sqlite(tmp_path: Path, pg_url: str) -> None:
    src = open_store(Config(database_url=pg_url))
    src.migrate()
    fill(src)
    target = tmp_path / "moved" / "papers.db"
    result = cli(env_for(tmp_path / "unused", pg_url), "db", "copy", "--to", f"sqlite:///{target}")
    assert result.exit_code == 0, result.output
    assert f"copied to SQLite {target}" in result.output
    dst = open_store(Config(database_url=f"sqlite:///{target}"))
    try:
        assert_same(src, dst)
    finally:
        dst.close()
        src.close()


def test_copy_store_reports_progress_and_counts(tmp_path: Path) -> None:
    a, b = (
        Config(password_hash="cheapest", data_dir=tmp_path / "a"),
        Config(password_hash="cheapest", data_dir=tmp_path / "b"),
    )
    src, dst = open_store(a), open_store(b)
    for st in (src, dst):
        st.migrate()
    fill(src)
    steps: list[tuple[str, int, int]] = []
    counts = copy_store(src, dst, batch=100, progress=lambda *step: steps.append(step))
    assert [s for s in steps if s[0] == "papers"] == [("papers", n, N_PAPERS) for n in (100, 200, 300)]
    assert ("embeddings[model-b]", 25, 25) in steps and ("meta", 2, 2) in steps and steps[-1] == ("votes", 3, 3)
    assert ("users", 1, 1) in steps and counts["users"] == (1, 1) and counts["api_tokens"] == (1, 1)
    assert counts["papers"] == (N_PAPERS, N_PAPERS)
    assert counts["votes"] == (3, 3) and ("votes", 3, 3) in steps
    assert counts["embeddings[model-b]"] == (24, 24)  # 25 embedded, one of them stale
    assert counts["paper_categories"][0] == counts["paper_categories"][1] > N_PAPERS
    assert mismatches(counts) == {}
    assert_same(src, dst)


def test_a_table_copy_does_not_know_fails_the_copy(tmp_path: Path) -> None:
    src = open_store(Config(password_hash="cheapest", data_dir=tmp_path))
    src.migrate()
    src.upsert_papers(corpus()[:10])
    src._writer.execute("CREATE TABLE bookmarks (paper_id TEXT, note TEXT)")  # type: ignore[attr-defined]
    src._writer.execute("INSERT INTO bookmarks VALUES ('x', 'y')")  # type: ignore[attr-defined]
    src.close()
    result = cli(env_for(tmp_path), "db", "copy", "--to", f"sqlite:///{tmp_path / 'copy.db'}")
    assert result.exit_code == 1
    assert "copy incomplete: bookmarks: 1 rows in the source, 0 in the target" in result.output


def test_every_table_of_the_schema_has_a_copy_step() -> None:
    created = {
        name.lower()
        for backend in ("sqlite", "postgres")
        for _, script in migration_files(backend)
        for name in re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", script, flags=re.IGNORECASE)
    }
    assert created, "no CREATE TABLE found in the migrations"
    assert created <= set(COPIED_TABLES), f"teach dailypapers/papers/copy.py to copy {created - set(COPIED_TABLES)}"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "target must be a postgresql://… or sqlite:///PATH URL, got 'mysql://u@h/db'"),
        ("postgresql://nobody@127.0.0.1:1/x?connect_timeout=2", "cannot connect to PostgreSQL at 127.0.0.1:1/x"),
        ("sqlite:///{data}/dailypapers.db", "the target is the configured database itself"),
    ],
    ids=["scheme", "unreachable", "itself"],
)
def test_bad_target_urls(tmp_path: Path, url: str, message: str) -> None:
    result = cli(env_for(tmp_path), "db", "copy", "--to", url.format(data=tmp_path))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_db_migrate(tmp_path: Path) -> None:
    first = cli(env_for(tmp_path), "db", "migrate")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        "applied 0001_papers",
        "applied 0002_votes",
        "applied 0004_accounts",
        "applied 0005_community",
        "applied 0006_jobs",
        "applied 0007_inbox",
        "applied 0009_account_email",
        "applied 0010_topics",
        "applied 0011_keyword_index",
        "sqlite database up to date (9 migration(s) applied)",
    ]
    again = cli(env_for(tmp_path), "db", "migrate")
    assert again.output.splitlines() == ["sqlite database up to date (0 migration(s) applied)"]


def test_db_migrate_postgres(tmp_path: Path, pg_url: str) -> None:
    result = cli(env_for(tmp_path, pg_url), "db", "migrate")
    assert result.exit_code == 0, result.output
    assert "applied 0001_papers" in result.output and "postgres database up to date" in result.output


@pytest.fixture(autouse=True)
def _no_leftover_env() -> Iterator[None]:
    """CliRunner(env=...) restores the environment; make sure of it (later tests read DAILYPAPERS_*)."""
    before = {k: v for k, v in os.environ.items() if k.startswith("DAILYPAPERS_")}
    yield
    assert {k: v for k, v in os.environ.items() if k.startswith("DAILYPAPERS_")} == before
