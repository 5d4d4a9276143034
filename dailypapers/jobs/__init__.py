"""Background jobs: named functions (:mod:`.registry`), their runs (:mod:`.runs`), the schedule (:mod:`.schedule`),
the scheduler that runs each scheduled slot once across every worker (:mod:`.scheduler`), and the instance's
status (:mod:`.status`). ``dailypapers worker``, ``dailypapers jobs run`` and ``dailypapers serve`` use these."""

from __future__ import annotations

from dailypapers.jobs.registry import INGEST_LOCK, JOBS, Job, get_job, register
from dailypapers.jobs.scheduler import Scheduler, run_now

INGEST_JOB = INGEST_LOCK  # the lock name the CLI's import commands take

__all__ = ["INGEST_JOB", "INGEST_LOCK", "JOBS", "Job", "Scheduler", "get_job", "register", "run_now"]
