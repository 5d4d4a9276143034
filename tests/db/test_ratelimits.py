"""The rate-limit counters of :mod:`dailypapers.db.ratelimits` on both backends: a window counts its hits, ends at its
expiry, is kept per key and shared by every process on one database, and is cleared on request. (The HTTP side, 429
with ``Retry-After``, is tested with the pages that are limited.)"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from dailypapers.config import Config
from dailypapers.db.engine import Database
from dailypapers.db.ratelimits import DatabaseStorage


@pytest.fixture
def databases(db_config: Config) -> Iterator[tuple[Database, Database]]:
    """Two engines on one migrated database, as two workers have."""
    one, two = Database(db_config), Database(db_config)
    yield one, two
    one.close()
    two.close()


def test_hits_count_per_key_until_the_window_ends(
    databases: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    counters = DatabaseStorage(databases[0])
    assert counters.check() and counters.get("login/ann") == 0
    assert [counters.incr("login/ann", 60) for _ in range(3)] == [1, 2, 3]
    assert counters.incr("login/bob", 60, amount=2) == 2 and counters.get("login/ann") == 3
    assert time.time() < counters.get_expiry("login/ann") <= time.time() + 60
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)  # the window has ended: the next hit starts a new one
    assert counters.get("login/ann") == 0 and counters.incr("login/ann", 60) == 1
    monkeypatch.undo()
    counters.clear("login/ann")
    assert counters.get("login/ann") == 0 and counters.get("login/bob") == 2
    assert counters.reset() == 1 and counters.get("login/bob") == 0


def test_two_processes_share_the_counts(databases: tuple[Database, Database]) -> None:
    one, two = (DatabaseStorage(db) for db in databases)
    assert one.incr("vote/ann", 60) == 1 and two.incr("vote/ann", 60) == 2 and one.get("vote/ann") == 2
