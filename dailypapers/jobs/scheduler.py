"""Running jobs: now (:func:`run_now`), or by the schedule (:class:`Scheduler`, the heart of ``dailypapers worker``).

Exactly once, however many schedulers run. Every worker process (``dailypapers worker``, or ``dailypapers serve``
with ``DAILYPAPERS_SERVE_WORKER``) may run a scheduler on the same database. At each tick a scheduler looks at
every scheduled job's newest slot (:meth:`dailypapers.jobs.schedule.Entry.slot`) and, if that slot has no run yet,
tries to run it: it takes the job's lock, then claims the slot by inserting ``(job, slot, attempt)`` into
``job_runs``, whose unique index admits one insert (:mod:`dailypapers.jobs.runs`). A loser of either step does
nothing; the winner runs the job in a thread of its own, so a three-hour harvest never holds up the embedding job,
and never a web request (the scheduler is a daemon thread, and a job failing only fails its run).

Retries: a failed (or interrupted) attempt ``n`` of a slot is retried as attempt ``n + 1`` once
``DAILYPAPERS_JOB_BACKOFF × 2^(n-1)`` seconds have passed since it ended, up to ``DAILYPAPERS_JOB_RETRIES`` times;
then the job waits for its next slot. A retry is claimed like a slot, so it too runs once.

Time comes from ``clock`` (aware UTC datetimes), which tests replace: :meth:`Scheduler.tick` does one round at the
clock's time, and :meth:`Scheduler.wait_idle` waits until the jobs it started have ended.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from dailypapers.jobs.registry import JOBS, Counts, get_job
from dailypapers.jobs.runs import JobRun, JobRuns, utc_now
from dailypapers.jobs.schedule import Entry, parse_schedule

if TYPE_CHECKING:
    from dailypapers.library import Library

TICK_S = 30.0  # how often a scheduler looks: a slot starts at most this late, and one tick is a query per job
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What one attempt to run a job came to: ``ran`` (with the run's status), ``busy`` (another run of the lock
    holds it) or ``taken`` (another worker claimed the slot)."""

    job: str
    result: str
    run: JobRun | None = None


def run_now(
    lib: Library,
    name: str,
    *,
    slot: datetime | None = None,
    attempt: int = 1,
    trigger: str = "manual",
    clock: Callable[[], datetime] = utc_now,
) -> Outcome:
    """Run job ``name`` under its lock and record the run; a manual run (no ``slot``) is always recorded, a
    scheduled one only if this caller wins the claim. Never raises for the job's own failure (it is recorded)."""
    job = get_job(name)
    runs = JobRuns(lib.db)
    with lib.papers.job_lock(job.lock) as acquired:
        if not acquired:
            return Outcome(name, "busy")
        runs.mark_interrupted(name, now=clock())  # we hold its lock: any run still "running" is dead
        run_id = runs.claim(name, slot=slot, attempt=attempt, trigger=trigger, now=clock())
        if run_id is None:
            return Outcome(name, "taken")
        event = {"job": name, "run_id": run_id, "trigger": trigger}  # the fields of a JSON log line
        where = f", slot {slot.isoformat()}" if slot else ""
        log.info("job %s started (%s%s)", name, trigger, where, extra={**event, "event": "started"})
        counts: Counts = {}
        try:
            counts = job.fn(lib) or {}
        except Exception as exc:
            log.exception("job %s failed", name, extra={**event, "event": "failed"})
            error = "".join(traceback.format_exception_only(exc)).strip()
            runs.finish(run_id, "failed", counts=counts, error=error, now=clock())
        else:
            log.info("job %s done: %s", name, counts, extra={**event, "event": "done", "counts": counts})
            runs.finish(run_id, "ok", counts=counts, now=clock())
    return Outcome(name, "ran", runs.get(run_id))


class Scheduler:
    """Runs the configured schedule: :meth:`tick` once, or :meth:`start` a daemon thread that ticks every ``tick_s``."""

    def __init__(
        self,
        lib: Library,
        entries: Sequence[Entry] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        tick_s: float = TICK_S,
    ) -> None:
        c = lib.config
        self.lib = lib
        self.entries = list(entries if entries is not None else parse_schedule(c.schedule, c.time_zone, JOBS))
        self.clock, self.tick_s = clock, tick_s
        self.retries, self.backoff = c.job_retries, c.job_backoff
        self.runs = JobRuns(lib.db)
        self._running: dict[str, _JobThread] = {}  # job name → its run in this process
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def due(self, entry: Entry, now: datetime) -> tuple[datetime, int, str] | None:
        """``(slot, attempt, trigger)`` when ``entry`` should run at ``now``, else None."""
        slot = entry.slot(now)
        attempts = self.runs.attempts(entry.job, slot)
        if not attempts:
            return slot, 1, "schedule"
        last = attempts[-1]
        if last.status == "running":  # alive elsewhere, or dead: run_now finds out under the lock
            return (slot, last.attempt + 1, "retry") if self._maybe_dead(entry.job, last) else None
        if last.status in ("failed", "interrupted") and last.attempt <= self.retries:
            wait = timedelta(seconds=self.backoff * 2 ** (last.attempt - 1))
            if last.finished_at is None or now >= last.finished_at + wait:
                return slot, last.attempt + 1, "retry"
        return None

    def _maybe_dead(self, name: str, run: JobRun) -> bool:
        """True when the lock of a job whose run says "running" is free: the run's worker died."""
        if name in self._running:
            return False
        with self.lib.papers.job_lock(get_job(name).lock) as acquired:
            return acquired and run.attempt <= self.retries

    def tick(self, now: datetime | None = None) -> list[str]:
        """One round: start every due job not already running in this process; return their names."""
        now = now or self.clock()
        started: list[str] = []
        for name in [n for n, t in self._running.items() if not t.is_alive()]:
            del self._running[name]
        for entry in self.entries:
            if entry.job in self._running:
                continue
            try:
                due = self.due(entry, now)
            except Exception:  # a database hiccup: look again next tick
                log.exception("cannot read the runs of job %s", entry.job)
                continue
            if due is None:
                continue
            slot, attempt, trigger = due
            thread = _JobThread(partial(run_now, self.lib, entry.job, slot=slot, attempt=attempt, trigger=trigger,
                                        clock=self.clock))  # fmt: skip
            self._running[entry.job] = thread
            thread.start()
            started.append(entry.job)
        return started

    def wait_idle(self, timeout: float | None = 60.0) -> list[Outcome]:
        """Wait for the jobs this scheduler started to end; their outcomes."""
        outcomes = []
        for thread in list(self._running.values()):
            thread.join(timeout)
            if thread.outcome is not None:
                outcomes.append(thread.outcome)
        return outcomes

    def running(self) -> list[str]:
        """The jobs this scheduler has running now."""
        return [name for name, thread in self._running.items() if thread.is_alive()]

    def next_runs(self, now: datetime | None = None) -> dict[str, datetime]:
        """When each scheduled job's next slot begins."""
        now = now or self.clock()
        return {e.job: e.next_after(now) for e in self.entries}

    @property
    def alive(self) -> bool:
        """Whether the thread :meth:`start` started still ticks (what ``/readyz`` asks)."""
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def start(self) -> Scheduler:
        """Tick in a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._loop, name="dailypapers-scheduler", daemon=True)
        self._thread.start()
        names = ", ".join(f"{e.job} ({e.cron})" for e in self.entries) or "nothing"
        log.info("scheduler started: %s", names)
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed")
            self._stop.wait(self.tick_s)

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop ticking; jobs already running finish in their threads (daemon: they end with the process, and the
        next run of the job marks such a run ``interrupted``)."""
        self._stop.set()
        if self._thread and self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)


class _JobThread(threading.Thread):
    """A daemon thread running one job, keeping its :class:`Outcome`."""

    def __init__(self, fn: Callable[[], Outcome]) -> None:
        super().__init__(name="dailypapers-job", daemon=True)
        self.fn = fn
        self.outcome: Outcome | None = None

    def run(self) -> None:
        try:
            self.outcome = self.fn()
        except Exception:  # the lock or the claim failed (database down): the next tick tries again
            log.exception("could not run a job")


def start_in_process(lib: Library) -> Scheduler | None:
    """The scheduler of ``dailypapers serve`` (``DAILYPAPERS_SERVE_WORKER``), started; None when it is off or
    nothing is scheduled. An invalid schedule raises :class:`~dailypapers.config.ConfigError` (at startup)."""
    config = lib.config
    if not config.serve_worker or not config.schedule.strip():
        return None
    scheduler = Scheduler(lib)
    return scheduler.start() if scheduler.entries else None
