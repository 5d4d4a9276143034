"""The schedule: which job runs when, from ``DAILYPAPERS_SCHEDULE`` (five-field cron, read with croniter).

The setting is ``job=cron`` pairs separated by ``;``, e.g. ``ingest.announcements=15 * * * *; index.embed=*/10 * *
* *``, or ``default`` for :data:`DEFAULT_SCHEDULE`. Expressions are read in ``DAILYPAPERS_TIME_ZONE``: ``0 6 * * *``
with ``Europe/Berlin`` is six in the morning in Berlin, summer and winter (croniter handles the DST shifts). An
empty setting schedules nothing: a fresh ``make run`` stays offline.

A job's *slot* is the newest time its expression matched at or before now. The scheduler runs each slot once (see
:mod:`dailypapers.jobs.scheduler`); a worker that was down catches up only the newest missed slot, never a backlog.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from dailypapers.config import ConfigError

# arXiv announces Sunday to Thursday at 20:00 US Eastern and its feeds change once a day, but the announcement
# day must reach every time zone: reading the feed hourly costs one small request when nothing changed (the
# papers are stored unchanged). The OAI harvest at 03:00 catches what a feed that only shows the newest day
# missed while the worker was down; embedding every 10 minutes makes new papers searchable by meaning soon after.
DEFAULT_SCHEDULE = (
    "ingest.announcements=15 * * * *; ingest.oai=0 3 * * *; ingest.arxiv=0 4 * * *; index.embed=*/10 * * * *"
    "; digest.send=5 * * * *"  # hourly: each subscriber has a send hour of their own, in their own time zone
    "; mail.deliver=*/5 * * * *"  # retries (first after DAILYPAPERS_MAIL_BACKOFF = 300 s) go out within 5 minutes
    # the topic map (docs/topics.md): new papers placed by their neighbours hourly (seconds), the whole map again
    # on Sunday nights (minutes), the new papers' key phrases hourly
    "; map=20 * * * *; map.full=30 2 * * 0; keyphrases=25 * * * *"
)


@dataclass(frozen=True)
class Entry:
    """One job of the schedule: its name and cron expression, read in ``zone``."""

    job: str
    cron: str
    zone: ZoneInfo

    def slot(self, now: datetime) -> datetime:
        """The newest time at or before ``now`` (aware) that the expression matches, in UTC."""
        local = (now + timedelta(microseconds=1)).astimezone(self.zone)  # "at or before": now itself may match
        return croniter(self.cron, local).get_prev(datetime).astimezone(UTC)

    def next_after(self, now: datetime) -> datetime:
        """The first time after ``now`` that the expression matches, in UTC."""
        return croniter(self.cron, now.astimezone(self.zone)).get_next(datetime).astimezone(UTC)


def parse_schedule(raw: str, time_zone: str, known: Iterable[str]) -> list[Entry]:
    """The entries of a ``DAILYPAPERS_SCHEDULE`` value; :class:`ConfigError` naming the bad part otherwise."""
    raw = raw.strip()
    if raw == "default":
        raw = DEFAULT_SCHEDULE
    names = sorted(known)
    zone = ZoneInfo(time_zone)
    entries: dict[str, Entry] = {}
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        job, sep, cron = (s.strip() for s in part.partition("="))
        if not sep or not job or not cron:
            raise ConfigError(f"DAILYPAPERS_SCHEDULE: {part!r} is not job=cron (e.g. index.embed=*/10 * * * *)")
        if job not in names:
            raise ConfigError(f"DAILYPAPERS_SCHEDULE: unknown job {job!r}; the jobs are {', '.join(names)}")
        if job in entries:
            raise ConfigError(f"DAILYPAPERS_SCHEDULE: job {job!r} is scheduled twice")
        if len(cron.split()) != 5 or not croniter.is_valid(cron):
            raise ConfigError(
                f"DAILYPAPERS_SCHEDULE: {cron!r} (for {job}) is not a five-field cron expression"
                " (minute hour day-of-month month day-of-week)"
            )
        entries[job] = Entry(job, cron, zone)
    return list(entries.values())
