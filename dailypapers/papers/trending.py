"""Trending order of the daily list: upvotes that decay with age, Hacker News style.

A paper's trending score is ``upvotes / (age_hours + 2) ** 1.5`` where ``age_hours`` counts from the moment the
paper entered the daily list (midnight UTC of ``added_at``) to ``now``. Fresh papers with a few upvotes
overtake old papers with many; the ``+ 2`` hours keep a paper added this minute from dividing by zero, and the
gravity of 1.5 is the value Hacker News used for years (a paper twice as old needs about 2.8 times the upvotes
to rank level). Papers with equal scores (papers without upvotes all score 0) keep the daily list's own
order: newest added first, then most upvoted, then by id, so the order is total and paging is stable.

The database computes it (``sort="trending"`` of :meth:`dailypapers.papers.service.Papers.in_period`, behind the
Trending page, the daily lists' "trending" order and ``sort=trending`` of the Hugging Face compatible
``/api/daily_papers``): every paper of one day has the same age, so :func:`day_weights` turns the days of the
window into one factor each, and the store orders by ``(upvotes + votes) * weight`` with a ``CASE`` over those
days — the same SQL on both backends, no paper loaded into Python to be ranked. :func:`trending` is the same
order in Python, over papers already loaded: the definition the tests hold the SQL to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time

from dailypapers.papers.models import Paper

GRAVITY = 1.5
"""How fast a paper's upvotes lose weight with age (exponent of the age)."""
OFFSET_HOURS = 2.0
"""Added to every age so that brand-new papers have a finite score."""


def trending_score(upvotes: int, age_hours: float) -> float:
    """``upvotes / (age_hours + 2) ** 1.5``; a negative age (a paper dated in the future) counts as 0 hours."""
    return max(upvotes, 0) / (max(age_hours, 0.0) + OFFSET_HOURS) ** GRAVITY


def day_weights(days: Iterable[date], now: datetime) -> dict[date, float]:
    """``1 / (age_hours + 2) ** 1.5`` of a paper added on each of ``days``, at ``now``: its score per upvote."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    weights = {}
    for day in days:
        age = (now - datetime.combine(day, time(0), tzinfo=UTC)).total_seconds() / 3600.0
        weights[day] = trending_score(1, age)
    return weights


def entered_list_at(paper: Paper) -> datetime | None:
    """When the paper entered the daily list: midnight UTC of ``added_at`` (else its publication time)."""
    if paper.added_at is not None:
        return datetime.combine(paper.added_at, time(0), tzinfo=UTC)
    return paper.published


def age_hours(paper: Paper, now: datetime) -> float:
    """Hours between the paper entering the daily list and ``now`` (an aware datetime); unknown: very old."""
    start = entered_list_at(paper)
    if start is None:
        return float("inf")
    return (now - start).total_seconds() / 3600.0


def paper_score(paper: Paper, now: datetime) -> float:
    """The trending score of ``paper`` at ``now``."""
    age = age_hours(paper, now)
    return 0.0 if age == float("inf") else trending_score(paper.upvotes, age)


def trending(papers: Iterable[Paper], now: datetime) -> list[Paper]:
    """``papers`` ordered by trending score at ``now``, highest first (ties: newest added, most upvoted, id)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")

    def key(paper: Paper) -> tuple[float, int, int, str]:
        added = (paper.added_at or date.min).toordinal()
        return (-paper_score(paper, now), -added, -paper.upvotes, paper.id)

    return sorted(papers, key=key)
