"""The demo corpus that ships with the package: 298 real machine-learning papers with their arXiv records.

Each line has the title and abstract, and the arXiv facts found for it on public pages: ``id`` (289 papers),
``authors`` (288), ``categories`` (201, the primary first) and ``published`` (the first-submission day, 252); a
field is ``null`` where nothing was found (nothing was guessed), and such a paper gets the ``dp-`` id derived from
its title and no author or category links.

``dailypapers init --demo`` (and ``make run``) imports :data:`DEMO_CORPUS` into an empty database, spread over the
last :data:`DEMO_WEEKDAYS` weekdays (:func:`demo_days`), so that a newcomer's first page has days, weeks and
previous/next links to follow. The spread is the demo's own choice: ``published`` is when a paper appeared on
arXiv (shown and filtered on, see ``Paper.display_date``), the spread day is when it joined this library's list.
A file named by ``DAILYPAPERS_DEMO_CORPUS`` is imported the same way (:func:`import_demo`).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the library is imported by the caller already; importing the corpus path must stay cheap
    from dailypapers.library import Library
    from dailypapers.papers.sources.base import IngestReport

DEMO_CORPUS = Path(__file__).with_name("papers.jsonl")
DEMO_WEEKDAYS = 10


def demo_days(today: date, count: int = DEMO_WEEKDAYS) -> list[date]:
    """The ``count`` weekdays up to and including ``today`` (or the last weekday before it), oldest first."""
    days: list[date] = []
    day = today
    while len(days) < count:
        if day.weekday() < 5:  # Monday..Friday: arXiv announces no papers at weekends
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def spread(count: int, days: list[date]) -> list[date]:
    """The day of each of ``count`` records spread evenly over ``days`` (oldest first): the first records on the
    oldest day, the last on the newest, day sizes differing by at most one. With fewer records than days some days
    stay empty, never the newest (the home page)."""
    n = len(days)
    # counted back from the last record, so that it lands on the newest day whatever ``count`` is
    return [days[n - 1 - (count - 1 - i) * n // count] for i in range(count)] if n else []


def import_demo(
    library: Library, path: Path | None = None, today: date | None = None, *, progress: bool | None = None
) -> IngestReport:
    """Import the JSONL file ``path`` (default :data:`DEMO_CORPUS`) into ``library``: its records spread over the
    :data:`DEMO_WEEKDAYS` weekdays ending ``today`` (default: the local date), one batch per day with ``added_at``
    that day, then embedded and indexed once. Returns the counts of all batches together."""
    from dailypapers.papers.sources.base import IngestReport
    from dailypapers.papers.sources.jsonl import read_jsonl

    source = DEMO_CORPUS if path is None else path.expanduser()
    if not source.is_file():
        raise FileNotFoundError(f"demo corpus not found: {source} (DAILYPAPERS_DEMO_CORPUS)")
    records = list(read_jsonl(source))  # a few hundred: the spread needs their number up front
    report = IngestReport()
    days = spread(len(records), demo_days(today or date.today()))
    for day, batch in itertools.groupby(zip(days, records, strict=True), key=lambda pair: pair[0]):
        done = library.ingest((record for _, record in batch), added_at=day, progress=progress, index=False)
        report.counts += done.counts
        report.rejected += done.rejected
    library.search.update_index(progress=progress)
    return report
