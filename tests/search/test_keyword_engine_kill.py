"""A SIGKILL while the tantivy keyword index is being built loses nothing: a real indexing process is killed after
its first commits, and the next update finishes the index with every paper once; a reader in another process
sees each new generation as the writer records it. SQLite only (PostgreSQL's tsvector is kept by the database)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest

from dailypapers.config import Config
from dailypapers.papers.models import Paper
from dailypapers.papers.store.sqlite import SQLiteStore
from dailypapers.search.keyword.tantivy_index import recorded_state
from dailypapers.search.keyword.tantivy_search import TantivyKeywords

pytestmark = pytest.mark.slow
N = 12_000

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from dailypapers.papers.store.sqlite import SQLiteStore
    from dailypapers.search.keyword.tantivy_index import KeywordIndexWriter
    store = SQLiteStore(Path(sys.argv[1]))
    KeywordIndexWriter(store, Path(sys.argv[2]), batch=int(sys.argv[3])).update(progress=False)
    print("finished", flush=True)
    """
)

READER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from dailypapers.papers.store.sqlite import SQLiteStore
    from dailypapers.search.keyword.tantivy_search import TantivyKeywords
    engine = TantivyKeywords(SQLiteStore(Path(sys.argv[1])), Path(sys.argv[2]))
    for line in sys.stdin:  # one query per line; answers the keys found, or "fallback" while not ready
        deadline = time.monotonic() + 10
        while not engine.ready and time.monotonic() < deadline:
            time.sleep(0.05)
        hits = engine.search(line.strip(), 5)
        print(" ".join(str(h.pk) for h in hits) if engine.ready else "fallback", flush=True)
    """
)


def papers(n: int, start: int = 0) -> list[Paper]:
    return [
        Paper(id=f"2612.{i:05d}", title=f"Paper number {i} on topic w{i % 97}", abstract=f"Unique token u{i}x and more",
              authors=[f"Author {i % 13}"], categories=["cs.LG"], added_at=date(2026, 12, 1), source="jsonl")
        for i in range(start, start + n)
    ]  # fmt: skip


def test_sigkill_during_indexing_loses_nothing(db_config: Config, backend: str, tmp_path: Path) -> None:
    if backend != "sqlite":
        pytest.skip("the tantivy index is the SQLite backend's")
    store = SQLiteStore(db_config.sqlite_path)
    store.upsert_papers(papers(N))
    root = tmp_path / "keyword"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_config.sqlite_path), str(root), "300"], env=env, stdout=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while (state := recorded_state(store)) is None or state.gen < 3:  # a few batches committed and recorded
        assert child.poll() is None, "the indexer finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    killed = TantivyKeywords(store, root).check()
    assert killed.missing and not killed.orphans  # killed midway: papers left to index, none indexed wrongly

    engine = TantivyKeywords(store, root)
    assert not engine.ready  # a build that did not finish is not searched (FTS5 answers meanwhile)
    assert engine.update(progress=False) == len(killed.missing)
    after = engine.check()
    assert after.ok and after.documents == N
    assert [h.pk for h in engine.search(f"u{N - 1}x", 5)] == [N]
    store.close()


def test_a_reader_in_another_process_sees_each_recorded_generation(
    db_config: Config, backend: str, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("the tantivy index is the SQLite backend's")
    store = SQLiteStore(db_config.sqlite_path)
    store.upsert_papers(papers(50))
    root = tmp_path / "keyword"
    engine = TantivyKeywords(store, root)
    engine.update(progress=False)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db_config.sqlite_path), str(root)],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert reader.stdin is not None and reader.stdout is not None

    def ask(query: str) -> str:
        reader.stdin.write(query + "\n")  # type: ignore[union-attr]
        reader.stdin.flush()  # type: ignore[union-attr]
        return reader.stdout.readline().strip()  # type: ignore[union-attr]

    try:
        assert ask("u7x") == "8"
        store.upsert_papers(papers(1, start=50))
        engine.update(progress=False)
        deadline = time.monotonic() + 10
        while (answer := ask("u50x")) != "51":  # the reader rechecks the record within a second
            assert time.monotonic() < deadline, answer
    finally:
        reader.stdin.close()
        reader.wait(timeout=10)
        store.close()
