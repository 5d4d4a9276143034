"""``dailypapers check [--repair]``: each test breaks one thing on purpose, on both backends, and sees the check
find it and the repair mend it — and never touch what people wrote."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from email.message import EmailMessage

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import text, update

from dailypapers.cli import main
from dailypapers.db.schema import job_runs, outbox
from dailypapers.jobs.registry import JOBS
from dailypapers.jobs.runs import JobRuns, utc_now
from dailypapers.library import Library
from dailypapers.ops.check import run_checks
from tests.ops.conftest import papers


def _finding(lib: Library, name: str, *, repair: bool = False) -> dict:
    report = run_checks(lib, repair=repair)
    return next(f.as_json() for f in report.findings if f.name == name)


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid  # reaped: no process has this id now (a new one would need the pid counter to wrap)


def test_a_consistent_instance_is_clean(ops_library: Library) -> None:
    report = run_checks(ops_library)
    assert report.ok and report.exit_code == 0, report.as_json()
    assert [f.name for f in report.findings] == [
        "migrations", "settings", "keyword_index", "embeddings", "vector_index", "jobs", "outbox",
    ]  # fmt: skip


def test_papers_imported_but_not_indexed_are_found_and_indexed(ops_library: Library) -> None:
    """An import that died before indexing: the papers are stored, neither index has them."""
    ops_library.ingest(papers(2, start=5), added_at=date(2026, 11, 21), progress=False, index=False)
    report = run_checks(ops_library)
    assert not report.ok and report.exit_code == 1
    embeddings = next(f for f in report.findings if f.name == "embeddings")
    assert embeddings.data["needingEmbedding"] == 2
    if ops_library.store.backend == "sqlite":  # PostgreSQL's tsvector is a generated column: always in step
        keyword = next(f for f in report.findings if f.name == "keyword_index")
        assert not keyword.ok and keyword.data["missing"] == 2, keyword
    repaired = run_checks(ops_library, repair=True)
    assert repaired.ok and repaired.exit_code == 0, repaired.as_json()
    assert "embedded 2 paper(s)" in next(f.repaired for f in repaired.findings if f.name == "embeddings")
    assert ops_library.search.query("paper number 6", mode="keyword").results[0].paper.id == "2401.10006"
    assert run_checks(ops_library).ok


def test_a_lost_vector_and_an_orphan_vector_are_found_and_rebuilt(ops_library: Library) -> None:
    lib = ops_library
    pk = lib.papers.get("2401.10001").pk  # type: ignore[union-attr]
    if lib.store.backend == "sqlite":  # the on-disk HNSW index: drop a vector, add one of no paper
        ann = lib.search.vectors.ann  # type: ignore[attr-defined]
        with ann.writing():
            ann.remove([pk])
            ann.add(np.array([10**9]), np.ones((1, 8), dtype=np.float32))
            ann.save()
        found = _finding(lib, "vector_index")
        assert (found["ok"], found["missing"], found["orphans"]) == (False, 1, 1), found
        assert found["missingSample"] == [pk] and found["orphanSample"] == [10**9]
    else:  # pgvector: the index is the embeddings table; drop a row, add one of no paper (foreign key bypassed)
        with lib.db.write() as conn:
            conn.execute(text("DELETE FROM embeddings WHERE paper_pk = :pk"), {"pk": pk})
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("INSERT INTO embeddings SELECT 999999, model, text_hash, vector FROM embeddings LIMIT 1"))
        found = _finding(lib, "embeddings")
        assert (found["ok"], found["needingEmbedding"], found["orphans"]) == (False, 1, 1), found
    report = run_checks(lib, repair=True)
    assert report.ok, report.as_json()
    assert [h.paper.id for h in lib.search.query("paper number 1", mode="semantic").results].count("2401.10001") == 1
    assert run_checks(lib).ok


def test_a_broken_keyword_index_is_found_and_rebuilt(ops_library: Library) -> None:
    lib = ops_library
    if lib.store.backend == "postgres":  # an interrupted CREATE INDEX CONCURRENTLY leaves the index invalid
        with lib.db.write() as conn:
            conn.execute(text("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'papers_tsv'::regclass"))
    else:  # the keyword index loses a paper (a write that did not reach it)
        lib.ingest(papers(1, start=9), added_at=date(2026, 11, 21), progress=False, index=False)
    found = _finding(lib, "keyword_index")
    assert not found["ok"], found
    assert "papers_tsv" in " ".join(found["faults"]) if lib.store.backend == "postgres" else found["missing"] == 1
    repaired = _finding(lib, "keyword_index", repair=True)
    assert repaired["ok"] and repaired["repaired"] == "rebuilt the keyword index", repaired


def test_a_job_left_running_by_a_dead_worker_is_marked_interrupted(ops_library: Library) -> None:
    runs = JobRuns(ops_library.db)
    run_id = runs.claim("index.embed", slot=None, attempt=1, trigger="manual", now=utc_now())
    assert run_id is not None
    with ops_library.db.write() as conn:
        conn.execute(update(job_runs).where(job_runs.c.id == run_id).values(pid=_dead_pid()))
    found = _finding(ops_library, "jobs")
    assert not found["ok"] and found["deadRuns"][0]["id"] == run_id and found["deadRuns"][0]["pidAlive"] is False
    repaired = _finding(ops_library, "jobs", repair=True)
    assert repaired["ok"] and repaired["repaired"] == "marked 1 run(s) interrupted"
    assert runs.get(run_id).status == "interrupted"  # type: ignore[union-attr]


def test_a_job_running_now_is_not_a_problem(ops_library: Library) -> None:
    runs = JobRuns(ops_library.db)
    runs.claim("index.embed", slot=None, attempt=1, trigger="manual", now=utc_now())
    with ops_library.papers.job_lock(JOBS["index.embed"].lock) as held:  # a live worker holds it while it runs
        assert held
        assert _finding(ops_library, "jobs")["ok"]


def test_mail_stuck_in_sending_goes_back_to_pending(ops_library: Library) -> None:
    message = EmailMessage()
    message["To"] = "reader@example.org"
    message["Subject"] = "Your digest"
    message.set_content("Three papers.")
    entry = ops_library.outbox.record(message, kind="digest", period="2026-11-20")
    assert entry is not None
    with ops_library.db.write() as conn:
        conn.execute(update(outbox).where(outbox.c.id == entry.id).values(status="sending", attempts=1))
    found = _finding(ops_library, "outbox")
    assert not found["ok"] and found["stuck"] == 1
    repaired = _finding(ops_library, "outbox", repair=True)
    assert repaired["ok"] and repaired["repaired"].startswith("1 mail(s) back to pending")
    kept = ops_library.outbox.get(entry.id)
    assert kept is not None and kept.status == "pending"
    assert "Three papers." in str(ops_library.outbox.message(entry.id))  # the mail itself is untouched


@pytest.mark.slow  # loads the configured model (MiniLM) for the vector index
def test_the_cli_exit_status_says_whether_it_is_clean(ops_library: Library) -> None:
    """The command on the library's database: problems (exit 1), repaired (exit 0), clean (exit 0); --json parses.
    The configured model (MiniLM) is not the library's, so the repair embeds the papers with it."""
    c = ops_library.config
    env = {"DAILYPAPERS_DATA_DIR": str(c.data_dir), "DAILYPAPERS_DATABASE_URL": c.database_url}
    runs = JobRuns(ops_library.db)
    run_id = runs.claim("index.embed", slot=None, attempt=1, trigger="manual", now=utc_now())
    runner = CliRunner()
    found = runner.invoke(main, ["check", "--json"], env=env)
    assert found.exit_code == 1, found.output
    report = json.loads(found.output)
    assert not report["ok"] and {f["name"] for f in report["checks"] if not f["ok"]} == {"embeddings", "jobs"}
    repaired = runner.invoke(main, ["check", "--repair"], env=env)
    assert repaired.exit_code == 0, repaired.output
    assert "repaired: marked 1 run(s) interrupted" in repaired.output and repaired.output.endswith("clean\n")
    assert runner.invoke(main, ["check"], env=env).exit_code == 0
    assert runs.get(run_id).status == "interrupted"  # type: ignore[union-attr]
    assert ops_library.papers.count() == 5  # nothing people wrote changed


def test_the_store_keyword_index_check_and_rebuild(ops_library: Library) -> None:
    """The store's own index (FTS5 on SQLite, tsvector on PostgreSQL), which a keyword engine without a check of its
    own is checked by: a paper the index lost is found and the rebuild brings it back."""
    from dailypapers.papers.store.consistency import check_store_keywords, rebuild_store_keywords

    store = ops_library.store
    assert check_store_keywords(store).ok
    if store.backend == "sqlite":
        with store.db.write() as conn:  # FTS5's own way to drop a row from an external-content index
            drop = (
                "INSERT INTO papers_fts (papers_fts, rowid, title, abstract, author_names)"
                " SELECT 'delete', pk, title, abstract, author_names FROM papers WHERE id = '2401.10002'"
            )
            conn.execute(text(drop))
        found = check_store_keywords(store)
        assert (found.ok, found.missing_count, found.engine) == (False, 1, "fts5"), found.as_json()
    else:
        with store.db.write() as conn:
            conn.execute(text("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'papers_tsv'::regclass"))
        found = check_store_keywords(store)
        assert not found.ok and found.faults == ["index papers_tsv is invalid"], found.as_json()
    rebuild_store_keywords(store)
    assert check_store_keywords(store).ok
