"""What every source yields, and the one loop that writes a source's records into the store.

A source is a generator of :class:`~dailypapers.papers.models.Paper` (a good record) or :class:`Rejected` (a malformed
record, with its position and the reason). :func:`ingest` upserts papers in batches, counts what happened and
prints a progress bar, so a bad record costs only itself: everything else is imported.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from tqdm import tqdm

from dailypapers.papers.models import Paper
from dailypapers.papers.store.base import Store, UpsertCounts


class SourceError(RuntimeError):
    """A source that cannot be read at all (unreachable URL, arXiv error entry, unreadable file)."""


@dataclass(frozen=True)
class Rejected:
    """A record that was skipped: where it was (``line 12``, ``entry 3 of page 2``) and why."""

    position: str
    reason: str

    def __str__(self) -> str:
        return f"{self.position}: {self.reason}"


Record = Paper | Rejected


@dataclass
class IngestReport:
    """Counts of one ingest run; ``rejected`` keeps every skipped record's position and reason."""

    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def added(self) -> int:
        return self.counts.added

    @property
    def updated(self) -> int:
        return self.counts.updated

    @property
    def unchanged(self) -> int:
        return self.counts.unchanged

    def summary(self) -> str:
        c = self.counts
        return f"added {c.added}, updated {c.updated}, unchanged {c.unchanged}, rejected {len(self.rejected)}"


def today_utc() -> date:
    return datetime.now(UTC).date()


def ingest(
    store: Store,
    records: Iterable[Record],
    *,
    batch_size: int = 500,
    added_at: date | None = None,
    progress: bool | None = None,
    total: int | None = None,
    on_reject: Callable[[Rejected], None] | None = None,
) -> IngestReport:
    """Upsert every paper from ``records`` into ``store``; collect rejections; return the counts.

    Papers without ``added_at`` get ``added_at`` (default: today, UTC) — the ingestion date is the daily-list
    date. The same paper twice in one run counts once (the later record wins). ``progress=None`` shows a bar
    only on a terminal. If the source fails midway (network gone, arXiv error), the papers read so far are
    stored before the error propagates, and ``report`` on the exception holds their counts.
    """
    day = added_at or today_utc()
    report = IngestReport()
    pending: dict[str, Paper] = {}
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=total, unit=" records", disable=not show, file=sys.stderr, desc="ingest")

    def flush() -> None:
        if pending:
            report.counts += store.upsert_papers(list(pending.values()))
            pending.clear()

    try:
        for rec in records:
            bar.update(1)
            if isinstance(rec, Rejected):
                report.rejected.append(rec)
                if on_reject:
                    on_reject(rec)
                continue
            if rec.added_at is None:
                rec.added_at = day
            if rec.id in pending:  # same paper twice in a batch: keep the newer version
                old = pending[rec.id]
                if (rec.version or 0) < (old.version or 0):
                    report.counts.unchanged += 1
                    continue
                report.counts.unchanged += 1
            pending[rec.id] = rec
            if len(pending) >= batch_size:
                flush()
        flush()
    except SourceError as exc:
        flush()  # keep everything read before the failure
        exc.report = report  # type: ignore[attr-defined]
        raise
    finally:
        bar.close()
    return report
