"""Job locks and the scheduled arXiv import, on both backends (``--backend``).

Locks: a second store (same process) and a second process (``python -c``) are kept out while one holder has the
lock, and get it once the holder leaves its block — normally, by an exception, or by dying. The scheduled import
runs against a real local HTTP server speaking arXiv's Atom (the fixture pages of tests/papers/sources): two "workers"
(two Library objects with stores of their own, in threads) race for it and it runs once.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.jobs import (
    INGEST_JOB,
    RETRY_S,
    run_job,
    scheduled_arxiv_ingest,
    seconds_until_due,
    start_scheduler,
)
from dailypapers.library import Library
from dailypapers.papers.store import Store, StoreError, open_store
from tests.demo import cli_env
from tests.papers.sources.conftest import FakeArxiv, Response, _serve

ROOT = Path(__file__).resolve().parents[1]
ARXIV_IDS = {"2106.09685", "1706.03762"}  # two of the five papers on the fixture pages
HOLDER = """
import sys
from pathlib import Path
from dailypapers.config import Config
from dailypapers.papers.store import open_store
store = open_store(Config(data_dir=Path(sys.argv[1]), database_url=sys.argv[2]))
with store.job_lock(sys.argv[3]) as acquired:
    print("acquired" if acquired else "busy", flush=True)
    sys.stdin.readline()  # hold the lock until the parent says so (or kills us)
store.close()
"""


class HashEmbedder:
    """A deterministic stand-in for the real model: 8 dimensions from a hash of the text."""

    name = "hash-8"
    dim = 8

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], dtype=np.uint8) + 1.0 for t in texts]
        out = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def config(store: Store, db_config: Config) -> Config:
    """The configuration of the ``store`` fixture's database (as the web app or the CLI would have it)."""
    return db_config


@pytest.fixture
def twin(store: Store, config: Config) -> Iterator[Store]:
    """A second store on the same database (as a second worker has)."""
    other = open_store(config)
    yield other
    other.close()


class Holder:
    """Another process that takes a job lock and keeps it until ``release()`` (or ``kill()``)."""

    def __init__(self, config: Config, name: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(config.data_dir), config.database_url, name],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.answer = self.proc.stdout.readline().strip()

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        assert self.proc.wait(30) == 0

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)


def _eventually_acquired(store: Store, name: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        with store.job_lock(name) as acquired:
            if acquired or time.monotonic() > deadline:
                return acquired
        time.sleep(0.05)


# -- job locks ----------------------------------------------------------------------------------------------------
def test_second_store_is_kept_out_until_release(store: Store, twin: Store) -> None:
    with store.job_lock("ingest") as first:
        assert first
        with twin.job_lock("ingest") as second:
            assert not second
        with store.job_lock("ingest") as again:  # non-reentrant: a second holder even in the same store
            assert not again
        with twin.job_lock("other-job") as other:  # locks are per name
            assert other
    with twin.job_lock("ingest") as after:
        assert after


def test_lock_is_released_when_the_block_raises(store: Store, twin: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"), store.job_lock("ingest") as acquired:
        assert acquired
        raise RuntimeError("boom")
    with twin.job_lock("ingest") as after:
        assert after


def test_lock_excludes_another_process(store: Store, config: Config) -> None:
    holder = Holder(config, "ingest")
    assert holder.answer == "acquired"
    with store.job_lock("ingest") as acquired:
        assert not acquired
    holder.release()
    with store.job_lock("ingest") as acquired:
        assert acquired
        assert Holder(config, "ingest").answer == "busy"  # and the other way round (that holder exits by itself)


def test_lock_of_a_process_that_raised_or_died_is_free_again(store: Store, config: Config) -> None:
    with pytest.raises(RuntimeError), store.job_lock("ingest") as acquired:
        assert acquired
        raise RuntimeError("import failed")
    holder = Holder(config, "ingest")
    assert holder.answer == "acquired"
    holder.kill()  # no clean exit: the OS (SQLite) or the server (PostgreSQL) drops the lock
    assert _eventually_acquired(store, "ingest")


def test_bad_lock_name(store: Store) -> None:
    with pytest.raises(ValueError, match="bad job lock name"), store.job_lock("../etc/passwd"):
        pass


# -- run_job and the scheduled import -----------------------------------------------------------------------------
@pytest.fixture
def arxiv() -> Iterator[FakeArxiv]:
    """The fake arXiv API, answering each request after 0.2 s (so that a racing worker finds the lock held)."""
    with _serve(FakeArxiv()) as fake:
        assert isinstance(fake, FakeArxiv)
        fake.url += "/api/query"
        respond = fake.handler

        def slow(path: str, params: dict[str, str]) -> Response:
            time.sleep(0.2)
            return respond(path, params)

        fake.handler = slow
        yield fake


@pytest.fixture
def workers(config: Config, arxiv: FakeArxiv) -> Iterator[list[Library]]:
    """Two libraries with stores of their own on the same database, configured for a scheduled import."""
    cfg = Config(
        data_dir=config.data_dir,
        database_url=config.database_url,
        ingest_query="cat:cs.LG",
        ingest_max_results=5,
        arxiv_api_url=arxiv.url,
        arxiv_delay=0.0,
        arxiv_retries=0,
    )
    libs = [Library(cfg, embedder=HashEmbedder()) for _ in range(2)]
    yield libs
    for lib in libs:
        lib.close()


def _first_pages(arxiv: FakeArxiv) -> int:
    """How many imports asked arXiv for their first page."""
    return sum(1 for s in arxiv.seen if s.params.get("start") == "0")


def test_run_job_skips_while_another_holds_the_lock(workers: list[Library], caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    with workers[0].store.job_lock("nightly"), caplog.at_level(logging.INFO, logger="dailypapers.jobs"):
        assert run_job(workers[1], "nightly", lambda: calls.append(1)) is False
    assert "job nightly skipped: already running elsewhere" in caplog.text
    assert calls == []
    assert run_job(workers[1], "nightly", lambda: calls.append(1)) is True
    assert calls == [1]


def test_two_workers_race_and_the_import_runs_once(workers: list[Library], arxiv: FakeArxiv) -> None:
    barrier = threading.Barrier(len(workers))
    results: list[bool] = []
    errors: list[BaseException] = []

    def worker(lib: Library) -> None:
        barrier.wait()
        try:
            results.append(scheduled_arxiv_ingest(lib))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(lib,)) for lib in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(results) == [False, True]
    assert _first_pages(arxiv) == 1 and len(arxiv.seen) == 3  # one import: three pages of the fake feed
    store = workers[1].store
    assert store.count_papers() == 4  # five entries, one without a title (rejected)
    assert {p.id for p in store.iter_papers()} >= ARXIV_IDS
    assert store.count_needing_embedding(HashEmbedder.name) == 0  # imported papers are indexed too
    last_run = datetime.fromisoformat(store.meta.get(f"job:{INGEST_JOB}:last_run") or "")
    assert datetime.now(UTC) - last_run < timedelta(minutes=1)

    # Not due again within the interval, whichever worker asks; due again once the interval has passed.
    assert not scheduled_arxiv_ingest(workers[0]) and not scheduled_arxiv_ingest(workers[1])
    assert _first_pages(arxiv) == 1
    store.meta.set(f"job:{INGEST_JOB}:last_run", (last_run - timedelta(hours=25)).isoformat())
    assert scheduled_arxiv_ingest(workers[0])
    assert _first_pages(arxiv) == 2
    assert store.count_papers() == 4  # the same papers again: unchanged


def test_failed_import_is_recorded_and_retried_later(workers: list[Library], arxiv: FakeArxiv) -> None:
    arxiv.script = [(503, {}, b"down for maintenance")]
    with pytest.raises(Exception, match="503"):
        scheduled_arxiv_ingest(workers[0])
    store = workers[0].store
    assert store.meta.get(f"job:{INGEST_JOB}:last_run") is None
    assert store.meta.get(f"job:{INGEST_JOB}:last_failure") is not None
    assert RETRY_S - 60 < seconds_until_due(store, INGEST_JOB, timedelta(hours=24)) <= RETRY_S
    assert not scheduled_arxiv_ingest(workers[1])  # the other worker does not hammer arXiv right away
    assert len(arxiv.seen) == 1


def test_schedulers_of_two_workers_run_the_import_once(workers: list[Library], arxiv: FakeArxiv) -> None:
    schedulers = [start_scheduler(lib, first_delay=0.05) for lib in workers]
    try:
        deadline = time.monotonic() + 30
        while workers[0].store.meta.get(f"job:{INGEST_JOB}:last_run") is None:
            assert time.monotonic() < deadline, "the scheduled import did not run"
            time.sleep(0.05)
        time.sleep(1.0)  # both schedulers have had their turn by now
    finally:
        for s in schedulers:
            assert s is not None
            s.stop()
    assert sum(s.runs for s in schedulers if s) == 1
    assert _first_pages(arxiv) == 1
    assert not any(s.is_alive() for s in schedulers if s)


def test_no_scheduler_without_a_query(store: Store, config: Config) -> None:
    lib = Library(config, store=store, embedder=HashEmbedder())
    assert start_scheduler(lib) is None
    assert scheduled_arxiv_ingest(lib) is False


# -- the CLI takes the lock -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["ingest", "jsonl", str(ROOT / "tests" / "papers" / "sources" / "fixtures" / "papers_small.jsonl")],
        ["index", "update"],
    ],
    ids=["ingest", "index-update"],
)
def test_cli_refuses_to_import_while_another_import_runs(store: Store, config: Config, args: list[str]) -> None:
    with store.job_lock(INGEST_JOB):
        result = CliRunner().invoke(main, args, env=cli_env(config))
    assert result.exit_code == 1
    assert "another import is running (lock 'ingest'); try again later" in result.output
    assert store.count_papers() == 0


def test_cli_import_holds_the_lock(store: Store, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def ingest_and_probe(self: Library, records: object, **kwargs: object) -> object:
        with store.job_lock(INGEST_JOB) as acquired:  # what a second import would find
            seen.append(acquired)
        raise StoreError("stop here")

    monkeypatch.setattr(Library, "ingest", ingest_and_probe)
    path = ROOT / "tests" / "papers" / "sources" / "fixtures" / "papers_small.jsonl"
    result = CliRunner().invoke(main, ["ingest", "jsonl", str(path)], env=cli_env(config))
    assert result.exit_code == 1 and "stop here" in result.output
    assert seen == [False]
    with store.job_lock(INGEST_JOB) as acquired:  # released after the failed command
        assert acquired


def test_interval_must_be_positive() -> None:
    from dailypapers.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="DAILYPAPERS_INGEST_INTERVAL"):
        load_config({"DAILYPAPERS_INGEST_INTERVAL": "0"})
    assert load_config({"DAILYPAPERS_INGEST_INTERVAL": "0.5"}).ingest_interval == 0.5
