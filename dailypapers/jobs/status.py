"""The instance's status, for admins: what is stored and indexed, and each job's schedule and last runs.

One function builds it (:func:`instance_status`); ``dailypapers status`` prints it and ``/admin/status`` renders it
as a page and as JSON. A job whose newest run says ``running`` while its lock is free lost its worker: it is shown
as ``interrupted`` (the next run records it so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dailypapers.config import ConfigError
from dailypapers.jobs.registry import JOBS, get_job
from dailypapers.jobs.runs import JobRun, JobRuns, utc_now
from dailypapers.jobs.schedule import parse_schedule
from dailypapers.library import LAST_ANNOUNCEMENT_KEY

if TYPE_CHECKING:
    from dailypapers.library import Library


@dataclass
class JobStatus:
    """One job: its schedule (None: not scheduled), next slot, newest run and newest successful run."""

    name: str
    help: str
    cron: str | None
    next_run: datetime | None
    last: JobRun | None
    last_ok: JobRun | None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "help": self.help,
            "schedule": self.cron,
            "nextRun": self.next_run.isoformat() if self.next_run else None,
            "last": self.last.as_json() if self.last else None,
            "lastOk": self.last_ok.as_json() if self.last_ok else None,
        }


@dataclass
class Status:
    """What ``dailypapers status`` prints and ``/admin/status`` shows."""

    backend: str
    papers: int
    model: str
    embedded: int
    other_models: dict[str, int]
    index_bytes: int | None
    database_bytes: int
    last_announcement_day: str | None
    schedule_error: str | None
    jobs: list[JobStatus] = field(default_factory=list)
    outbox: dict[str, int] = field(default_factory=dict)  # email entries per status (docs/mail.md)

    def as_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "papers": self.papers,
            "embeddingModel": self.model,
            "embeddedPapers": self.embedded,
            "otherModels": self.other_models,
            "vectorIndexBytes": self.index_bytes,
            "databaseBytes": self.database_bytes,
            "lastAnnouncementDay": self.last_announcement_day,
            "scheduleError": self.schedule_error,
            "jobs": [j.as_json() for j in self.jobs],
            "outbox": self.outbox,
        }


def _folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder.is_dir() else 0


def instance_status(lib: Library, now: datetime | None = None) -> Status:
    """The status of ``lib``'s instance at ``now``."""
    now = now or utc_now()
    config = lib.config
    model = lib.embedder.name  # the name only: the model is not loaded
    counts = lib.papers.embedding_counts()
    schedule_error = None
    try:
        entries = {e.job: e for e in parse_schedule(config.schedule, config.time_zone, JOBS)}
    except ConfigError as exc:
        entries, schedule_error = {}, str(exc)
    runs = JobRuns(lib.db)
    latest = runs.latest()
    jobs = []
    for name in sorted(JOBS):
        entry = entries.get(name)
        last = latest.get(name)
        if last is not None and last.status == "running" and _lock_free(lib, name):
            last = JobRun(**{**last.__dict__, "status": "interrupted"})
        jobs.append(
            JobStatus(
                name=name,
                help=JOBS[name].help,
                cron=entry.cron if entry else None,
                next_run=entry.next_after(now) if entry else None,
                last=last,
                last_ok=runs.last_ok(name) if last is not None and last.status != "ok" else last,
            )
        )
    return Status(
        backend=lib.papers.backend,
        papers=lib.papers.count(),
        model=model,
        embedded=counts.get(model, 0),
        other_models={m: n for m, n in counts.items() if m != model},
        index_bytes=_folder_bytes(config.vector_dir) if lib.papers.backend == "sqlite" else None,
        database_bytes=lib.papers.database_bytes(),
        last_announcement_day=lib.store.meta.get(LAST_ANNOUNCEMENT_KEY),
        schedule_error=schedule_error,
        jobs=jobs,
        outbox=lib.outbox.counts(),
    )


def _lock_free(lib: Library, name: str) -> bool:
    with lib.papers.job_lock(get_job(name).lock) as acquired:
        return acquired


def human_bytes(n: int | None) -> str:
    """``1.5 MiB`` for 1572864 (binary units, as ``du -h`` prints them)."""
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def status_lines(status: Status) -> list[str]:
    """The status as text, for ``dailypapers status``."""
    lines = [
        f"backend           {status.backend}",
        f"papers            {status.papers:,}",
        f"embedded          {status.embedded:,} with {status.model}"
        + (f" (also {', '.join(f'{n:,} with {m}' for m, n in status.other_models.items())})" if status.other_models
           else ""),
        f"vector index      {human_bytes(status.index_bytes) if status.index_bytes is not None else 'in the database'}",
        f"database          {human_bytes(status.database_bytes)}",
        f"last announcement {status.last_announcement_day or 'none yet'}",
        f"outbox            {', '.join(f'{n:,} {s}' for s, n in status.outbox.items()) or 'empty'}",
    ]  # fmt: skip
    if status.schedule_error:
        lines.append(f"schedule          INVALID: {status.schedule_error}")
    lines.append("")
    lines.append(f"{'job':<22}{'schedule':<16}{'next run':<18}{'last run':<18}{'status':<12}{'took':>8}  what")
    for job in status.jobs:
        last = job.last
        took = f"{last.duration_s:.1f}s" if last and last.duration_s is not None else "-"
        what = (last.error or counts_text(last.counts)) if last else ""
        lines.append(
            f"{job.name:<22}{job.cron or 'by hand':<16}{_when(job.next_run):<18}"
            f"{_when(last.started_at if last else None):<18}{last.status if last else 'never':<12}{took:>8}  {what}"
        )
    return lines


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


MAX_LISTED = 3
"""Items of a list in a run's counts that :func:`counts_text` names (the JSON keeps them all)."""


def counts_text(counts: Mapping[str, Any]) -> str:
    """A run's counts in words, for people (the JSON keeps the numbers): ``{"sent": 0, "skipped_locked": True}`` is
    "0 sent, skipped: locked"; a list is named ("periods: 2026-11-20"), a report nested in the counts (a digest's
    delivery) follows a semicolon ("…; delivery: 0 sent, …"); nothing is said for False, None or an empty list."""
    flat: list[str] = []
    nested: list[str] = []
    for key, value in counts.items():
        words = key.replace("_", " ")
        if isinstance(value, Mapping):
            if inner := counts_text(value):
                nested.append(f"{words}: {inner}")
        elif isinstance(value, bool):  # before int: a bool is an int
            if value:
                head, _, rest = words.partition(" ")
                flat.append(f"{head}: {rest}" if rest else head)  # skipped_locked: "skipped: locked"
        elif isinstance(value, int | float):
            flat.append(f"{value:,} {words}")
        elif isinstance(value, list | tuple):
            if value:
                more = f" and {len(value) - MAX_LISTED:,} more" if len(value) > MAX_LISTED else ""
                flat.append(f"{words}: {', '.join(str(v) for v in value[:MAX_LISTED])}{more}")
        elif value is not None and value != "":
            flat.append(str(value) if key == "note" else f"{words}: {value}")
    return "; ".join(([", ".join(flat)] if flat else []) + nested)
