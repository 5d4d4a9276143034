"""Days, ISO weeks and months of the daily list: parsing ``YYYY-MM-DD`` / ``YYYY-Www`` / ``YYYY-MM`` and stepping.

Used by the web pages and the API alike; an invalid string raises :class:`ValueError` with a readable message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Period:
    """A closed date range of one kind ("day", "week" or "month") with its canonical key."""

    kind: str
    start: date
    end: date

    @property
    def key(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year:04d}-W{week:02d}"
        return f"{self.start.year:04d}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.strftime("%A, %d %B %Y")
        if self.kind == "week":
            return f"Week {self.key[-2:]} of {self.start.isocalendar()[0]} ({self.start:%d %b} – {self.end:%d %b})"
        return self.start.strftime("%B %Y")

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` periods later (negative: earlier)."""
        if self.kind == "day":
            return day_period(self.start + timedelta(days=steps))
        if self.kind == "week":
            return week_period(self.start + timedelta(weeks=steps))
        month = self.start.year * 12 + self.start.month - 1 + steps
        return month_period(date(month // 12, month % 12 + 1, 1))


def day_period(day: date) -> Period:
    return Period("day", day, day)


def week_period(day: date) -> Period:
    start = day - timedelta(days=day.weekday())
    return Period("week", start, start + timedelta(days=6))


def month_period(day: date) -> Period:
    start = day.replace(day=1)
    nxt = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return Period("month", start, nxt - timedelta(days=1))


def parse_day(text: str) -> Period:
    if not _DAY.match(text):
        raise ValueError(f"'{text}' is not a date of the form YYYY-MM-DD")
    try:
        return day_period(date.fromisoformat(text))
    except ValueError:
        raise ValueError(f"'{text}' is not a valid date") from None


def parse_week(text: str) -> Period:
    m = _WEEK.match(text)
    if not m:
        raise ValueError(f"'{text}' is not a week of the form YYYY-Www")
    try:
        return week_period(date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1))
    except ValueError:
        raise ValueError(f"'{text}' is not a valid ISO week") from None


def parse_month(text: str) -> Period:
    m = _MONTH.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise ValueError(f"'{text}' is not a month of the form YYYY-MM")
    return month_period(date(int(m.group(1)), int(m.group(2)), 1))
