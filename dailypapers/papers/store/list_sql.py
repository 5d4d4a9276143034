"""The SQL of a daily list's order and of the visibility rule the stores' reads add, built once for both stores.

Orders (``sort``): ``added`` (newest added first), ``upvotes`` (most upvoted first: imported + community votes),
``trending`` (``(upvotes + votes) * weight`` of the paper's day, highest first — the weights come from
:func:`dailypapers.papers.trending.day_weights`, one ``CASE`` branch per day, so the database ranks without any
paper being loaded to be scored). Ties fall back to the newest added, then most upvoted, then the id, as
:func:`dailypapers.papers.trending.trending` orders them, so the order is total and paging stable.

:data:`LISTED` is :func:`dailypapers.papers.hidden.not_hidden_sql` for a query on ``papers``: every list, count and
lookup adds it (:func:`unless_hidden_wanted`), so a paper an admin hid never leaves the store for a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from dailypapers.papers.hidden import not_hidden_sql

UPVOTES_ORDER = "upvotes + votes_count DESC, display_date DESC, pk DESC"  # imported upvotes + community votes
ADDED_ORDER = "added_at DESC, pk DESC"
SORTS = ("added", "upvotes", "trending")
LISTED = not_hidden_sql("papers.pk")  # what every read of ``papers`` adds to its WHERE


def unless_hidden_wanted(include_hidden: bool) -> str:
    """`` AND`` :data:`LISTED`, or nothing for a caller that asked for hidden papers by name (moderation, copy)."""
    return "" if include_hidden else f" AND {LISTED}"


def list_order(sort: str, weights: Mapping[date, float] | None, placeholder: str) -> tuple[str, list[object]]:
    """``(ORDER BY text, its parameters)`` for ``sort``; ``placeholder`` is the driver's (``?`` or ``%s``)."""
    if sort == "upvotes":
        return UPVOTES_ORDER, []
    if sort != "trending":
        return ADDED_ORDER, []
    params: list[object] = []
    for day, weight in (weights or {}).items():
        params += [day, float(weight)]
    # Ids compare by code point, as Python's sort does: PostgreSQL's default collation would not.
    by_id = 'id COLLATE "C"' if placeholder == "%s" else "id"
    ties = f"added_at DESC, upvotes + votes_count DESC, {by_id}"
    if not params:  # no day has a weight: every score is 0
        return ties, []
    whens = " ".join(f"WHEN {placeholder} THEN {placeholder}" for _ in range(len(params) // 2))
    return f"(upvotes + votes_count) * (CASE added_at {whens} ELSE 0.0 END) DESC, {ties}", params
