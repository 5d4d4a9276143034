"""Rising topics and key phrases: whose share of the new papers grows week over week, with a sparkline each.

A week is an ISO week of the day papers entered the list. For each topic (or key phrase) and each of the last
``weeks`` weeks, its share is the papers it has that week over all papers of that week; its **rise** is the last
week's share minus the mean share of the weeks before (weeks without papers left out of the mean), so one quiet
week does not make everything rise. Only items with at least ``min_count`` papers in the last week and a positive
rise are listed, highest rise first. The last week is that of the newest day with papers, so a quiet instance still
shows its last active week.

:func:`sparkline_svg` draws the shares as a small inline SVG (numbers only: nothing user-written goes into it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Rising(Generic[K]):
    """One rising item: its key, papers per week (oldest first), shares per week, and its rise."""

    key: K
    weeks: list[str]
    counts: list[int]
    shares: list[float]
    rise: float


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_labels(last: date, weeks: int) -> list[str]:
    """The ISO weeks of the ``weeks`` weeks that end with the week of ``last``, oldest first."""
    return [iso_week(last - timedelta(weeks=i)) for i in range(weeks - 1, -1, -1)]


def first_day(last: date, weeks: int) -> date:
    """The Monday of the oldest of the ``weeks`` weeks ending with the week of ``last``."""
    return last - timedelta(days=last.weekday()) - timedelta(weeks=weeks - 1)


def rising(
    rows: Iterable[tuple[str, K]], last: date, *, weeks: int = 8, limit: int = 5, min_count: int = 3
) -> list[Rising[K]]:
    """The rising items among ``rows`` (``(day YYYY-MM-DD, key)``: one per paper and key) in the ``weeks`` weeks
    ending with the week of ``last``."""
    labels = week_labels(last, weeks)
    position = {label: i for i, label in enumerate(labels)}
    counts: dict[K, list[int]] = {}
    papers_per_week: Counter[str] = Counter()
    for day, key in rows:
        try:
            week = iso_week(date.fromisoformat(day))
        except ValueError:
            continue
        if week in position:
            counts.setdefault(key, [0] * weeks)[position[week]] += 1
            papers_per_week[week] += 1
    totals = [papers_per_week[label] for label in labels]
    out = []
    for key, per_week in counts.items():
        if per_week[-1] < min_count or totals[-1] == 0:
            continue
        shares = [c / t if t else 0.0 for c, t in zip(per_week, totals, strict=True)]
        before = [s for s, t in zip(shares[:-1], totals[:-1], strict=True) if t]
        rise = shares[-1] - (sum(before) / len(before) if before else 0.0)
        if rise > 0 and before:
            out.append(Rising(key, labels, per_week, shares, rise))
    out.sort(key=lambda r: (-r.rise, str(r.key)))
    return out[:limit]


def sparkline_svg(values: list[float], *, width: int = 80, height: int = 20, label: str = "") -> str:
    """An inline SVG polyline of ``values`` (scaled to the box; the last value marked). ``label`` is a number-only
    description for screen readers, made by the caller from numbers."""
    if not values:
        return ""
    top = max(values) or 1.0
    step = width / max(len(values) - 1, 1)
    points = [(round(i * step, 1), round(height - 2 - (v / top) * (height - 4), 1)) for i, v in enumerate(values)]
    path = " ".join(f"{x},{y}" for x, y in points)
    lx, ly = points[-1]
    title = f"<title>{label}</title>" if label else ""
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="{label or "share per week"}">{title}'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{path}"/>'
        f'<circle cx="{lx}" cy="{ly}" r="2" fill="currentColor"/></svg>'
    )
