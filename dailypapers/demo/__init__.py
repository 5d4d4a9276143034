"""The demo corpus that ships with the package: 298 real machine-learning papers (title and abstract only).

``dailypapers init --demo`` (and ``make run``) imports :data:`DEMO_CORPUS` into an empty database, spread over the
last :data:`DEMO_WEEKDAYS` weekdays (:func:`demo_days`), so that a newcomer's first page has days, weeks and
previous/next links to follow. The spread is the demo's own choice: the corpus has no dates.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

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
    """The day of each of ``count`` records spread evenly over ``days`` (the first records on the oldest day)."""
    per_day = -(-count // len(days)) if days else 0
    return [days[min(i // per_day, len(days) - 1)] for i in range(count)] if per_day else []
