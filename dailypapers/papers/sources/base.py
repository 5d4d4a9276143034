"""What every source yields, and the one loop that writes a source's records into the store.

A source is a generator of :class:`~dailypapers.papers.models.Paper` (a good record) or :class:`Rejected` (a malformed
record, with its position and the reason). :func:`ingest` upserts papers in batches, counts what happened and
prints a progress bar, so a bad record costs only itself: everything else is imported. :func:`parse_untrusted_xml`
is the one hardened XML parse of the sources that read XML from the network (the arXiv feeds, OAI-PMH), and
:func:`xml_text` how the XML sources read an element's text.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from tqdm import tqdm

from dailypapers.papers.models import Paper, normalize_space
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


class Counted:
    """``added``, ``updated`` and ``unchanged`` of a report that keeps its :class:`UpsertCounts` in ``counts``."""

    counts: UpsertCounts

    @property
    def added(self) -> int:
        return self.counts.added

    @property
    def updated(self) -> int:
        return self.counts.updated

    @property
    def unchanged(self) -> int:
        return self.counts.unchanged

    def counts_text(self) -> str:
        """``added 3, updated 1, unchanged 0``, as the summaries say it."""
        return f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}"


@dataclass
class IngestReport(Counted):
    """Counts of one ingest run; ``rejected`` keeps every skipped record's position and reason."""

    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejected: list[Rejected] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.counts_text()}, rejected {len(self.rejected)}"


def today_utc() -> date:
    return datetime.now(UTC).date()


def too_large(where: str, max_bytes: int) -> SourceError:
    """The error for an answer over ``max_bytes``, refused before it is parsed."""
    return SourceError(f"{where}: response larger than {max_bytes // 2**20} MiB; refused")


def xml_text(el: ET.Element, tag: str) -> str | None:
    """The text of ``el``'s child ``tag`` with white space folded; None when the child is absent or blank."""
    return normalize_space(el.findtext(tag)) or None


def parse_untrusted_xml(
    body: bytes, where: str, *, expected: str, refusal: str = "refused hostile XML", max_bytes: int | None = None
) -> ET.Element:
    """The root element of ``body``, parsed by defusedxml with every DTD, entity declaration (billion laughs) and
    external reference refused, since none of the XML that sources read declares any: such a body raises
    :class:`SourceError` (``{refusal}: {where} has a DTDForbidden ({expected} declares no DTD or entities)``), as
    do malformed XML and, when ``max_bytes`` is given, a larger body."""
    if max_bytes is not None and len(body) > max_bytes:
        raise too_large(where, max_bytes)
    try:
        root: ET.Element = defused_fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SourceError(
            f"{refusal}: {where} has a {type(exc).__name__} ({expected} declares no DTD or entities)"
        ) from None
    except (ET.ParseError, ValueError) as exc:
        raise SourceError(f"{where}: not well-formed XML ({exc})") from None
    return root


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
