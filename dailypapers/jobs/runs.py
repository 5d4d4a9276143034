"""The record of job runs (table ``job_runs``, migration 0006), written once for both backends.

A run is claimed by inserting its row. A scheduled run carries the schedule time it is for (its *slot*) and an
attempt number, and ``(job, slot, attempt)`` is unique: of any number of workers on any number of machines that
see the same slot come due, the one whose insert lands runs it and the others find the slot taken. A run started
by hand has no slot (NULL, which never collides), so it is always recorded.

A worker killed mid-run leaves its row ``running``. The next run of that job, holding the job's lock (so nobody
else is running it), marks such rows ``interrupted`` (:meth:`JobRuns.mark_interrupted`).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from dailypapers.db.engine import Database
from dailypapers.db.ids import sortable_id
from dailypapers.db.schema import job_runs

MAX_ERROR = 4000  # characters of an error message kept (a traceback's last lines; the log has the rest)


@dataclass(frozen=True)
class JobRun:
    """One row of ``job_runs``."""

    id: str
    job: str
    slot: datetime | None
    attempt: int
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, Any]
    error: str
    host: str
    pid: int

    @property
    def duration_s(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job": self.job,
            "slot": self.slot.isoformat() if self.slot else None,
            "attempt": self.attempt,
            "trigger": self.trigger,
            "status": self.status,
            "startedAt": self.started_at.isoformat(),
            "finishedAt": self.finished_at.isoformat() if self.finished_at else None,
            "durationSeconds": self.duration_s,
            "counts": self.counts,
            "error": self.error,
            "host": self.host,
            "pid": self.pid,
        }


def _run(row: Any) -> JobRun:
    try:
        counts = json.loads(row.counts or "{}")
    except ValueError:
        counts = {}
    return JobRun(
        id=row.id,
        job=row.job,
        slot=row.slot,
        attempt=int(row.attempt),
        trigger=row.trigger,
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        counts=counts if isinstance(counts, dict) else {},
        error=row.error or "",
        host=row.host,
        pid=int(row.pid),
    )


class JobRuns:
    """Claims, results and history of job runs on the configured database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(self, job: str, *, slot: datetime | None, attempt: int, trigger: str, now: datetime) -> str | None:
        """Record a run of ``job`` as started; its id, or None when another worker already claimed this slot and
        attempt."""
        run_id = sortable_id()
        values = {
            "id": run_id,
            "job": job,
            "slot": slot,
            "attempt": attempt,
            "trigger": trigger,
            "status": "running",
            "started_at": now,
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }
        with self.db.write() as conn:
            stmt = self.db.insert(job_runs).values(**values)
            stmt = stmt.on_conflict_do_nothing(index_elements=["job", "slot", "attempt"]).returning(job_runs.c.id)
            won = conn.execute(stmt).scalar_one_or_none()  # RETURNING: no row when the slot was taken
        return run_id if won == run_id else None

    def finish(self, run_id: str, status: str, *, counts: dict[str, Any], error: str = "", now: datetime) -> None:
        """Record the end of run ``run_id``: its status (``ok``, ``failed``), what it did and its error."""
        values = {"status": status, "finished_at": now, "counts": json.dumps(counts, default=str)}
        values["error"] = error[-MAX_ERROR:]
        with self.db.write() as conn:
            conn.execute(update(job_runs).where(job_runs.c.id == run_id).values(**values))

    def mark_interrupted(self, job: str, *, now: datetime) -> int:
        """Mark ``job``'s runs still ``running`` as ``interrupted`` (call it holding the job's lock: then no such run
        is alive); return how many."""
        stmt = (
            update(job_runs)
            .where(job_runs.c.job == job, job_runs.c.status == "running")
            .values(status="interrupted", finished_at=now, error="the worker stopped before the run ended")
        )
        with self.db.write() as conn:
            return int(conn.execute(stmt).rowcount or 0)

    def get(self, run_id: str) -> JobRun | None:
        with self.db.read() as conn:
            row = conn.execute(select(job_runs).where(job_runs.c.id == run_id)).first()
        return _run(row) if row else None

    def attempts(self, job: str, slot: datetime) -> list[JobRun]:
        """The runs of ``job`` for schedule time ``slot``, first attempt first."""
        query = select(job_runs).where(job_runs.c.job == job, job_runs.c.slot == slot).order_by(job_runs.c.attempt)
        with self.db.read() as conn:
            return [_run(r) for r in conn.execute(query)]

    def recent(self, job: str | None = None, limit: int = 20) -> list[JobRun]:
        """The newest runs (of ``job``, or of every job), newest first."""
        query = select(job_runs).order_by(job_runs.c.started_at.desc(), job_runs.c.id.desc()).limit(limit)
        if job is not None:
            query = query.where(job_runs.c.job == job)
        with self.db.read() as conn:
            return [_run(r) for r in conn.execute(query)]

    def latest(self) -> dict[str, JobRun]:
        """Each job's newest run (ids are time-ordered: the greatest is the newest)."""
        newest = select(job_runs.c.job, func.max(job_runs.c.id).label("id")).group_by(job_runs.c.job).subquery()
        query = select(job_runs).join(newest, job_runs.c.id == newest.c.id)
        with self.db.read() as conn:
            return {r.job: _run(r) for r in conn.execute(query)}

    def last_ok(self, job: str) -> JobRun | None:
        query = (
            select(job_runs)
            .where(job_runs.c.job == job, job_runs.c.status == "ok")
            .order_by(job_runs.c.id.desc())
            .limit(1)
        )
        with self.db.read() as conn:
            row = conn.execute(query).first()
        return _run(row) if row else None


def utc_now() -> datetime:
    return datetime.now(UTC)
