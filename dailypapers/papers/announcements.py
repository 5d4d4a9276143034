"""What an arXiv announcement does to the catalogue: the one rule for feed items (``new``, ``cross``, ``replace``).

* ``new`` and ``cross`` papers join their announcement day's list: they are ingested with ``added_at`` = that day,
  one ingest per day, earliest day first. A paper that is stored already (from another source, or an earlier
  feed) stays one paper: the upsert keeps its ``added_at`` — the first day any source listed it — and moves it to
  the newest version; an older version never replaces a newer one.
* ``replace`` and ``replace-cross`` bring a new version of a paper announced before. Only papers already stored are
  updated (their ``added_at`` stays, so they are not listed again); a replacement of a paper we never stored is
  counted in ``skipped`` and ignored: it is not that day's news.

A feed item says less than the arXiv API (no first-version date, comment, journal reference or DOI), so what the
feed lacks is taken from the stored paper instead of being erased by the update.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from dailypapers.papers.models import Paper
from dailypapers.papers.service import Papers
from dailypapers.papers.sources.arxiv_feed import Announcement, FeedRecord
from dailypapers.papers.sources.base import IngestReport, Record, Rejected

# Fields a feed item never carries: kept from the stored paper when the feed's are empty.
_KEPT = ("published", "updated", "comment", "journal_ref", "doi", "code_url", "project_url")


class IngestFn(Protocol):
    """How papers are written: :meth:`Papers.ingest` or :meth:`Library.ingest` without indexing."""

    def __call__(self, records: Iterable[Record], /, *, added_at: date | None = None) -> IngestReport: ...


@dataclass
class AnnouncementReport:
    """What one batch of announcements did: ingest counts per listed day and for replacements."""

    days: dict[date, IngestReport] = field(default_factory=dict)
    replaced: IngestReport = field(default_factory=IngestReport)
    skipped: int = 0
    """Replacements of papers that are not stored: ignored, never listed."""
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(r.added for r in self.days.values()) + self.replaced.added

    @property
    def updated(self) -> int:
        return sum(r.updated for r in self.days.values()) + self.replaced.updated

    def summary(self) -> str:
        parts = [f"{day.isoformat()}: {report.summary()}" for day, report in sorted(self.days.items())]
        if not parts:
            parts.append("no new or cross-listed papers (a weekend or holiday)")
        r = self.replaced.counts
        parts.append(f"replacements: updated {r.updated}, unchanged {r.unchanged}, skipped {self.skipped} (not stored)")
        parts.append(f"rejected {len(self.rejected)}")
        return "; ".join(parts)


def merged(paper: Paper, stored: Paper | None) -> Paper:
    """``paper`` from the feed, completed with what only ``stored`` knows (see the module docstring)."""
    if stored is None:
        return paper
    fill: dict[str, object] = {k: getattr(stored, k) for k in _KEPT if not getattr(paper, k) and getattr(stored, k)}
    if stored.primary_category in paper.categories:  # the feed lists categories without saying which is primary
        fill["primary_category"] = stored.primary_category
    if stored.authors == paper.authors and any(stored.affiliations):  # read back, "none known" is [None, ...]
        fill["affiliations"] = stored.affiliations
    return dataclasses.replace(paper, **fill)  # type: ignore[arg-type]


def ingest_announcements(papers: Papers, ingest: IngestFn, records: Iterable[FeedRecord]) -> AnnouncementReport:
    """Apply announcements to the catalogue as the module docstring says; returns the counts."""
    report = AnnouncementReport()
    by_day: dict[date, list[Paper]] = defaultdict(list)
    replacements: list[Announcement] = []
    for rec in records:
        if isinstance(rec, Rejected):
            report.rejected.append(rec)
        elif rec.listed:
            by_day[rec.day].append(rec.paper)
        else:
            replacements.append(rec)
    for day in sorted(by_day):  # earliest first: a paper listed on two days keeps the first
        batch = [merged(p, papers.get(p.id, include_hidden=True)) for p in by_day[day]]
        report.days[day] = ingest(batch, added_at=day)
    updates: dict[str, Paper] = {}
    for rec in sorted(replacements, key=lambda a: a.day):
        stored = papers.get(rec.paper.id, include_hidden=True)
        if stored is None:
            report.skipped += 1
            continue
        updates[rec.paper.id] = dataclasses.replace(merged(rec.paper, stored), added_at=stored.added_at)
    if updates:
        report.replaced = ingest(list(updates.values()), added_at=None)
    return report
