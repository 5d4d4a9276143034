"""The scheduler under a controllable clock, on both backends: each slot runs once however many schedulers look,
a failed run is retried with backoff and then waits for its next slot, a killed run is found out and recorded as
interrupted, and the schedule setting is checked with clear messages. The jobs read a real local HTTP server that
serves arXiv's announcement feed (tests/papers/sources/fixtures/arxiv_feed_day1.xml: two new papers, one
cross-list and one replacement on Monday 2024-12-02).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from dailypapers.config import ConfigError
from dailypapers.jobs import JOBS, Scheduler, run_now
from dailypapers.jobs.runs import JobRuns
from dailypapers.jobs.schedule import DEFAULT_SCHEDULE, parse_schedule
from dailypapers.library import Library
from dailypapers.papers.periods import day_period
from tests.jobs.conftest import BlockingFeed, HashEmbedder

MONDAY = date(2024, 12, 2)
T0 = datetime(2026, 12, 1, 10, 5, tzinfo=UTC)  # slots: announcements 10:00, index.embed 10:00


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def _tick(scheduler: Scheduler, now: datetime) -> list[str]:
    started = scheduler.tick(now)
    scheduler.wait_idle()
    return started


# -- the schedule setting -----------------------------------------------------------------------------------------
def test_default_schedule_names_every_job() -> None:
    entries = parse_schedule("default", "UTC", JOBS)
    assert {e.job for e in entries} == set(JOBS) and len(DEFAULT_SCHEDULE) > 0
    assert parse_schedule("  ", "UTC", JOBS) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ingest.nope=* * * * *", f"unknown job 'ingest.nope'; the jobs are {', '.join(sorted(JOBS))}"),
        ("index.embed=61 * * * *", "'61 * * * *' (for index.embed) is not a five-field cron expression"),
        ("index.embed=* * * *", "is not a five-field cron expression"),
        ("index.embed", "'index.embed' is not job=cron"),
        ("index.embed=* * * * *; index.embed=0 * * * *", "job 'index.embed' is scheduled twice"),
    ],
)
def test_bad_schedules_are_refused_with_the_reason(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match="DAILYPAPERS_SCHEDULE") as info:
        parse_schedule(raw, "UTC", JOBS)
    assert message in str(info.value)


def test_cron_is_read_in_the_configured_time_zone() -> None:
    (entry,) = parse_schedule("ingest.oai=0 6 * * *", "Europe/Berlin", JOBS)
    summer = datetime(2026, 7, 1, 5, 30, tzinfo=UTC)  # 07:30 in Berlin (CEST, UTC+2)
    assert entry.slot(summer) == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    winter = datetime(2026, 12, 1, 5, 30, tzinfo=UTC)  # 06:30 in Berlin (CET, UTC+1)
    assert entry.slot(winter) == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    assert entry.slot(datetime(2026, 12, 1, 5, 0, tzinfo=UTC)) == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # at it
    assert entry.next_after(winter) == datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


# -- running slots ------------------------------------------------------------------------------------------------
def test_each_slot_runs_once_and_the_next_slot_runs_again(
    make_library: Callable[..., Library], feed: BlockingFeed
) -> None:
    lib = make_library()
    clock = Clock(T0)
    scheduler = Scheduler(lib, clock=clock)
    assert sorted(_tick(scheduler, clock.now)) == ["index.embed", "ingest.announcements"]
    assert len(feed.seen) == 1
    assert lib.papers.count() == 3  # two new and one cross-listed paper; the replacement of no stored paper: none
    assert len(lib.papers.in_period(day_period(MONDAY))) == 3  # Monday's list, from the feed's date
    assert lib.store.meta.get("announcements:last_day") == MONDAY.isoformat()

    assert _tick(scheduler, clock.advance(minutes=1)) == []  # 10:06: both slots done
    runs = JobRuns(lib.db).recent()
    assert [(r.job, r.status, r.trigger, r.slot) for r in runs if r.job == "ingest.announcements"] == [
        ("ingest.announcements", "ok", "schedule", datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    ]
    assert _tick(scheduler, clock.advance(minutes=5)) == ["index.embed"]  # 10:11: embedding's next slot
    assert sorted(_tick(scheduler, datetime(2026, 12, 1, 11, 0, tzinfo=UTC))) == ["index.embed", "ingest.announcements"]
    assert len(feed.seen) == 2
    assert lib.papers.count() == 3  # the same feed again: nothing new
    assert lib.store.count_needing_embedding(HashEmbedder.name) == 0


def test_two_schedulers_on_one_database_run_each_slot_once(
    make_library: Callable[..., Library], feed: BlockingFeed
) -> None:
    libs = [make_library(), make_library()]
    schedulers = [Scheduler(lib, clock=lambda: T0) for lib in libs]
    feed.gate.clear()  # the first run waits at the feed until both schedulers have looked
    barrier = threading.Barrier(2)
    started: list[list[str]] = [[], []]

    def look(i: int) -> None:
        barrier.wait()
        started[i] = schedulers[i].tick(T0)

    threads = [threading.Thread(target=look, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert feed.arrived.wait(10)
    for s in schedulers:  # a second look while the first run is still going changes nothing
        s.tick(T0)
    feed.gate.set()
    for s in schedulers:
        s.wait_idle()
    runs = JobRuns(libs[0].db).recent()
    assert sorted((r.job, r.attempt, r.status) for r in runs) == [
        ("index.embed", 1, "ok"), ("ingest.announcements", 1, "ok")
    ]  # fmt: skip
    assert len(feed.seen) == 1
    assert libs[1].papers.count() == 3


def test_a_failed_run_is_retried_with_backoff_then_waits_for_the_next_slot(
    make_library: Callable[..., Library], feed: BlockingFeed
) -> None:
    lib = make_library(schedule="ingest.announcements=0 * * * *")
    clock = Clock(T0)
    scheduler = Scheduler(lib, clock=clock)
    feed.today = (503, {"Retry-After": "1"}, b"down for maintenance")
    assert _tick(scheduler, clock.now) == ["ingest.announcements"]
    assert _tick(scheduler, clock.advance(seconds=59)) == []  # the first retry waits 60 s
    assert _tick(scheduler, clock.advance(seconds=2)) == ["ingest.announcements"]
    assert _tick(scheduler, clock.advance(seconds=110)) == []  # the second waits 120 s
    assert _tick(scheduler, clock.advance(seconds=11)) == ["ingest.announcements"]
    assert _tick(scheduler, clock.advance(minutes=30)) == []  # two retries (DAILYPAPERS_JOB_RETRIES): no third
    runs = sorted(JobRuns(lib.db).recent(), key=lambda r: r.attempt)
    assert [(r.attempt, r.trigger, r.status) for r in runs] == [
        (1, "schedule", "failed"), (2, "retry", "failed"), (3, "retry", "failed")
    ]  # fmt: skip
    assert "503" in runs[0].error
    assert lib.papers.count() == 0

    feed.today = BlockingFeed().today  # arXiv is back: the next slot runs and succeeds
    assert _tick(scheduler, datetime(2026, 12, 1, 11, 0, 30, tzinfo=UTC)) == ["ingest.announcements"]
    assert JobRuns(lib.db).recent(limit=1)[0].status == "ok"
    assert lib.papers.count() == 3


def test_a_run_whose_worker_died_is_retried_once_its_lock_is_free(make_library: Callable[..., Library]) -> None:
    lib = make_library(schedule="index.embed=0 * * * *")
    runs = JobRuns(lib.db)
    slot = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    scheduler = Scheduler(lib, clock=lambda: T0)
    with lib.papers.job_lock("index.embed"):  # a worker holding the lock is running it: leave it alone
        runs.claim("index.embed", slot=slot, attempt=1, trigger="schedule", now=slot)
        assert scheduler.tick(T0) == []
    # The lock is free but the run says "running": its worker died. The scheduler retries the slot, and the retry
    # records the dead run as interrupted.
    assert _tick(scheduler, T0) == ["index.embed"]
    assert [(r.attempt, r.status) for r in runs.attempts("index.embed", slot)] == [(1, "interrupted"), (2, "ok")]


def test_run_now_records_a_manual_run_and_refuses_while_the_lock_is_held(make_library: Callable[..., Library]) -> None:
    lib = make_library()
    first = run_now(lib, "ingest.announcements")
    assert first.result == "ran" and first.run is not None and first.run.status == "ok"
    assert first.run.trigger == "manual" and first.run.slot is None
    assert first.run.counts["added"] == 3 and first.run.counts["days"] == [MONDAY.isoformat()]
    with lib.papers.job_lock("ingest"):  # a CLI import holds the import lock
        assert run_now(lib, "ingest.announcements").result == "busy"
    assert run_now(lib, "index.embed").run.counts == {"embedded": 3, "model": "hash-8"}  # type: ignore[union-attr]
    with pytest.raises(KeyError, match="no job named 'nope'"):
        run_now(lib, "nope")


def test_a_job_without_configuration_says_so(make_library: Callable[..., Library], feed: BlockingFeed) -> None:
    lib = make_library(categories="", ingest_query="")
    assert run_now(lib, "ingest.announcements").run.counts == {  # type: ignore[union-attr]
        "note": "no categories configured (DAILYPAPERS_CATEGORIES)"
    }
    assert run_now(lib, "ingest.arxiv").run.counts == {  # type: ignore[union-attr]
        "note": "no query configured (DAILYPAPERS_INGEST_QUERY)"
    }
    assert feed.seen == []
