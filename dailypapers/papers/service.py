"""The papers service: reading the catalogue (a paper, a period's list, the days that have papers), importing
records into it, job locks and backups. Web and CLI call this, never the store underneath.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path

from dailypapers.errors import BadInput
from dailypapers.papers.models import Paper, parse_arxiv_id
from dailypapers.papers.periods import Period
from dailypapers.papers.sources.base import IngestReport, Record, ingest
from dailypapers.papers.store.base import Store


class Papers:
    """The papers of the configured database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def backend(self) -> str:
        return self.store.backend

    def get(self, paper_id: str) -> Paper | None:
        """A paper by id; an arXiv id with a version suffix or an abs URL resolves to the paper too."""
        paper = self.store.get_paper(paper_id)
        if paper is None and (parsed := parse_arxiv_id(paper_id)):
            paper = self.store.get_paper(parsed[0])
        return paper

    def count(self) -> int:
        return self.store.count_papers()

    def in_period(
        self, period: Period, *, limit: int | None = None, offset: int = 0, sort: str = "added"
    ) -> list[Paper]:
        """The papers added in ``period``, newest first (``sort="upvotes"``: most upvoted first)."""
        return self.store.papers_added_between(period.start, period.end, limit=limit, offset=offset, sort=sort)

    def count_in(self, period: Period) -> int:
        return self.store.count_added_between(period.start, period.end)

    def latest_day(self) -> date | None:
        """The newest day that has papers (an indexed ``max()``, cheap at any size)."""
        return self.store.latest_added_day()

    def neighbour_days(self, day: date) -> tuple[date | None, date | None]:
        """The closest earlier and later days that have papers."""
        return self.store.neighbour_days(day)

    def ingest(
        self, records: Iterable[Record], *, added_at: date | None = None, progress: bool | None = None
    ) -> IngestReport:
        """Import records (see :func:`dailypapers.papers.sources.base.ingest`); indexing is the library's."""
        return ingest(self.store, records, added_at=added_at, progress=progress)

    def job_lock(self, name: str) -> AbstractContextManager[bool]:
        """Hold the lock ``name`` (see :mod:`dailypapers.db.locks`): True when acquired, False when taken."""
        return self.store.job_lock(name)

    def backup(self, target: Path) -> None:
        """An online copy of the SQLite database to ``target`` (a new file), while the service runs."""
        backup = getattr(self.store, "backup", None)
        if backup is None:
            raise BadInput("backup copies the SQLite database; for PostgreSQL use pg_dump")
        if target.exists():
            raise BadInput(f"{target} exists; choose a new file")
        backup(target)
