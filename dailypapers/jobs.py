"""Background jobs that must run once per cluster, not once per worker: the scheduled arXiv import.

Every job runs under ``store.job_lock(name)`` (see :mod:`dailypapers.db.locks`), so two workers — threads,
processes or, with PostgreSQL, machines — never run it at the same time; the loser of the race skips it. The time
of the last successful run is kept in the store's meta table (``job:<name>:last_run``) and read *inside* the lock,
so however many workers run a scheduler, the job runs once per interval. A failed run is recorded as
``job:<name>:last_failure`` and retried after :data:`RETRY_S` (again once for all workers).

``dailypapers serve`` starts one scheduler per worker process (:func:`start_scheduler`); it does nothing unless
``DAILYPAPERS_INGEST_QUERY`` is set.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from dailypapers.library import Library
from dailypapers.papers.store import Store

INGEST_JOB = "ingest"  # the lock the CLI imports and index commands take too
RETRY_S = 600.0  # after a failed run, the next attempt (by any worker) waits this long
FIRST_DELAY_S = 30.0  # the first check after start: let the server finish starting first
CHECK_S = 3600.0  # longest sleep between two looks at the schedule

log = logging.getLogger(__name__)


def run_job(library: Library, name: str, fn: Callable[[], object]) -> bool:
    """Run ``fn`` while holding the job lock ``name``; False (and nothing run) when another worker holds it."""
    with library.papers.job_lock(name) as acquired:
        if not acquired:
            log.info("job %s skipped: already running elsewhere", name)
            return False
        fn()
        return True


def _meta_time(store: Store, key: str) -> datetime | None:
    value = store.meta.get(key)
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        log.warning("ignoring meta %s: not an ISO time: %r", key, value)
        return None


def seconds_until_due(store: Store, name: str, interval: timedelta, now: datetime | None = None) -> float:
    """Seconds until job ``name`` is due (0: due now), from its last run and last failure in the store."""
    now = now or datetime.now(UTC)
    due = now
    if last := _meta_time(store, f"job:{name}:last_run"):
        due = max(due, last + interval)
    if (failed := _meta_time(store, f"job:{name}:last_failure")) and (last is None or failed > last):
        due = max(due, failed + timedelta(seconds=RETRY_S))
    return (due - now).total_seconds()


def scheduled_arxiv_ingest(library: Library) -> bool:
    """Import the newest ``ingest_max_results`` papers of ``ingest_query`` from arXiv if due; True if it ran.

    Runs under the lock :data:`INGEST_JOB`; the due check happens inside it. A failure is recorded (retry after
    :data:`RETRY_S`) and re-raised; the papers read before it are kept and indexed.
    """
    config = library.config
    if not config.ingest_query:
        return False
    store = library.store
    ran = False

    def job() -> None:
        nonlocal ran
        wait = seconds_until_due(store, INGEST_JOB, timedelta(hours=config.ingest_interval))
        if wait > 0:
            log.debug("scheduled arXiv import not due for another %.0f s", wait)
            return
        from dailypapers.papers.sources.arxiv_api import arxiv_options, read_arxiv

        started = datetime.now(UTC)
        log.info("scheduled arXiv import of %r (up to %d papers)", config.ingest_query, config.ingest_max_results)
        try:
            records = read_arxiv(config.ingest_query, max_results=config.ingest_max_results, **arxiv_options(config))
            report = library.ingest(records, progress=False)
        except Exception:
            store.meta.set(f"job:{INGEST_JOB}:last_failure", datetime.now(UTC).isoformat())
            raise
        store.meta.set(f"job:{INGEST_JOB}:last_run", started.isoformat())
        log.info("scheduled arXiv import done: %s", report.summary())
        ran = True

    run_job(library, INGEST_JOB, job)
    return ran


class Scheduler(threading.Thread):
    """A daemon thread running :func:`scheduled_arxiv_ingest` whenever it is due; ``stop()`` ends it."""

    def __init__(self, library: Library, *, first_delay: float = FIRST_DELAY_S) -> None:
        super().__init__(name="dailypapers-scheduler", daemon=True)
        self.library = library
        self.first_delay = first_delay
        self.runs = 0  # runs this thread did itself
        self._stop_event = threading.Event()

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def run(self) -> None:
        interval = timedelta(hours=self.library.config.ingest_interval)
        wait = self.first_delay
        while not self._stop_event.wait(wait):
            try:
                if scheduled_arxiv_ingest(self.library):
                    self.runs += 1
            except Exception:
                log.exception("scheduled arXiv import failed; retrying in %.0f s", RETRY_S)
            try:  # sleep until due (as all workers see it), and look again at least every CHECK_S
                wait = seconds_until_due(self.library.store, INGEST_JOB, interval)
            except Exception:
                log.exception("cannot read the job schedule from the database")
                wait = 0.0
            # due yet not run by us: another worker holds the lock right now; look again a little later
            wait = min(max(1.0, wait), CHECK_S) if wait > 0 else min(interval.total_seconds(), RETRY_S)


def start_scheduler(library: Library, *, first_delay: float = FIRST_DELAY_S) -> Scheduler | None:
    """Start the scheduled arXiv import in a daemon thread (None when ``ingest_query`` is empty)."""
    if not library.config.ingest_query:
        return None
    scheduler = Scheduler(library, first_delay=first_delay)
    scheduler.start()
    log.info("scheduled arXiv import of %r every %g h", library.config.ingest_query, library.config.ingest_interval)
    return scheduler
