"""Job locks, on both backends (``--backend``): a second store (same process) and a second process (``python -c``)
are kept out while one holder has the lock, and get it once the holder leaves its block — normally, by an
exception, or by dying; the CLI's imports hold the ``ingest`` lock. The scheduler is tested in test_scheduler.py.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.jobs import INGEST_JOB
from dailypapers.library import Library
from dailypapers.papers.store import Store, StoreError, open_store
from tests.demo import cli_env

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys
from pathlib import Path
from dailypapers.config import Config
from dailypapers.papers.store import open_store
store = open_store(Config(password_hash="cheapest", data_dir=Path(sys.argv[1]), database_url=sys.argv[2]))
with store.job_lock(sys.argv[3]) as acquired:
    print("acquired" if acquired else "busy", flush=True)
    sys.stdin.readline()  # hold the lock until the parent says so (or kills us)
store.close()
"""


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
