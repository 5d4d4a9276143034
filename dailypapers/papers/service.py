"""The papers service: reading the catalogue (a paper, a period's list in any order, the days that have papers),
hiding papers (moderation), importing records, job locks and backups. Web and CLI call this, never the store
underneath.

A paper an admin hid (:mod:`dailypapers.papers.hidden`) is absent from everything this service returns — lists,
counts, :meth:`Papers.get`, :meth:`Papers.by_pks` — unless the caller asks for it by name (``include_hidden``:
the moderation page, an admin's view of the paper). The store's queries leave it out (the rule is theirs, once);
this service filters nothing after the fact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dailypapers.errors import BadInput, NotFound
from dailypapers.papers import hidden
from dailypapers.papers.hidden import HiddenPaper
from dailypapers.papers.models import Paper, parse_arxiv_id
from dailypapers.papers.periods import Period
from dailypapers.papers.sources.base import IngestReport, Record, ingest
from dailypapers.papers.store.base import Store
from dailypapers.papers.trending import day_weights

TRENDING_DAYS = 366
"""Most days a trending order weighs: a period longer than that ranks its older days by age alone."""


class Papers:
    """The papers of the configured database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def backend(self) -> str:
        return self.store.backend

    def get(self, paper_id: str, *, include_hidden: bool = False) -> Paper | None:
        """A paper by id; an arXiv id with a version suffix or an abs URL resolves to the paper too. A hidden paper
        is None unless ``include_hidden``."""
        paper = self.store.get_paper(paper_id, include_hidden=include_hidden)
        if paper is None and (parsed := parse_arxiv_id(paper_id)):
            paper = self.store.get_paper(parsed[0], include_hidden=include_hidden)
        return paper

    def by_pks(self, pks: Sequence[int]) -> list[Paper]:
        """The listed (not hidden) papers with these keys, in the order given; unknown keys are skipped."""
        return self.store.get_papers_by_pk(pks)

    def count(self) -> int:
        return self.store.count_papers()

    def database_bytes(self) -> int:
        """The database's size on disk."""
        return self.store.database_bytes()

    def embedding_counts(self) -> dict[str, int]:
        """Stored embeddings per model name."""
        return self.store.embedding_counts()

    def in_period(
        self,
        period: Period,
        *,
        limit: int | None = None,
        offset: int = 0,
        sort: str = "added",
        now: datetime | None = None,
    ) -> list[Paper]:
        """The papers added in ``period``: newest first, most upvoted first (``sort="upvotes"``) or by trending
        score at ``now`` (``sort="trending"``, :mod:`dailypapers.papers.trending`, ranked by the database)."""
        weights = self._trending_weights(period, now) if sort == "trending" else None
        return self.store.papers_added_between(
            period.start, period.end, limit=limit, offset=offset, sort=sort, weights=weights
        )

    def _trending_weights(self, period: Period, now: datetime | None) -> dict[date, float]:
        """One weight per day of ``period`` that can hold papers: at most the :data:`TRENDING_DAYS` days up to the
        newest day with papers. Older days weigh 0 (a year-old upvote counts under a millionth of a fresh one)."""
        newest = self.store.latest_added_day()
        if newest is None or newest < period.start:
            return {}
        last = min(period.end, newest)
        first = max(period.start, last - timedelta(days=TRENDING_DAYS - 1))
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        return day_weights(days, now or datetime.now(UTC))

    def count_in(self, period: Period) -> int:
        return self.store.count_added_between(period.start, period.end)

    def latest_day(self) -> date | None:
        """The newest day that has papers (an indexed ``max()``, cheap at any size)."""
        return self.store.latest_added_day()

    def neighbour_days(self, day: date) -> tuple[date | None, date | None]:
        """The closest earlier and later days that have papers."""
        return self.store.neighbour_days(day)

    # -- moderation ---------------------------------------------------------------------------------------------
    def is_hidden(self, paper: Paper) -> bool:
        """Whether an admin hid ``paper`` (what an admin's view of it shows; lists never need to ask)."""
        return paper.pk is not None and hidden.is_hidden(self.store.db, paper.pk)

    def hide(self, paper_id: str, by: str | None, reason: str = "") -> Paper:
        """Take the paper off every list, feed and search (``by``: the admin's user id)."""
        paper = self._named(paper_id)
        hidden.hide(self.store.db, int(paper.pk or 0), by, reason)
        return paper

    def unhide(self, paper_id: str) -> None:
        if not hidden.unhide(self.store.db, int(self._named(paper_id).pk or 0)):
            raise BadInput(f"The paper '{paper_id[:200]}' is not hidden.")

    def hidden_list(self, limit: int = 100) -> list[HiddenPaper]:
        """The most recently hidden papers, for the moderation page."""
        return hidden.hidden_list(self.store.db, limit)

    def _named(self, paper_id: str) -> Paper:
        paper = self.get(paper_id, include_hidden=True)
        if paper is None or paper.pk is None:
            raise NotFound(f"No paper has the id '{paper_id[:200]}'.")
        return paper

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
