"""The SQL ``WHERE`` clause for search filters (display and added days, category, author), for both backends.

:func:`candidate_sql` adds the visibility rule (:func:`dailypapers.papers.hidden.not_hidden_sql`) to the filters:
what every search candidate query (keyword, vector, ``filter_pks``) selects by, so hidden papers are never
candidates.

The two databases differ only in their parameter placeholder, their substring function and how a date is passed;
a :class:`Dialect` carries those. Every user value is a bound parameter, and a category is matched exactly or as a
prefix with its LIKE wildcards escaped, so ``cs_LG`` never matches ``csXLG``.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from dailypapers.papers.hidden import not_hidden_sql
from dailypapers.papers.models import Filters


@dataclass(frozen=True)
class Dialect:
    """``param``: the placeholder; ``contains``: a format with ``{hay}`` and ``{needle}`` that is true when the
    needle occurs in the hay; ``true``: an always-true condition; ``dates_as_text``: pass dates as ISO strings;
    ``in_keys``: a format with ``{column}`` and ``{param}`` that is true when the column is one of a list of keys,
    passed as one JSON array (``keys_as_json``) or one array parameter."""

    param: str
    contains: str
    true: str
    dates_as_text: bool
    in_keys: str
    keys_as_json: bool


SQLITE = Dialect(
    param="?",
    contains="instr({hay}, {needle}) > 0",
    true="1",
    dates_as_text=True,
    in_keys="{column} IN (SELECT value FROM json_each({param}))",
    keys_as_json=True,
)
POSTGRES = Dialect(
    param="%s",
    contains="strpos({hay}, {needle}) > 0",
    true="TRUE",
    dates_as_text=False,
    in_keys="{column} = ANY({param})",
    keys_as_json=False,
)


def filter_sql(filters: Filters, dialect: Dialect, alias: str = "p") -> tuple[str, list[Any]]:
    """``(condition, parameters)`` selecting the rows of ``papers AS alias`` that pass ``filters``."""
    ph = dialect.param
    clauses: list[str] = []
    args: list[Any] = []
    days = (
        ("display_date", filters.since, ">="),
        ("display_date", filters.until, "<="),
        ("added_at", filters.added_since, ">="),
        ("added_at", filters.added_until, "<="),
    )
    for column, day, op in days:
        if day:
            clauses.append(f"{alias}.{column} {op} {ph}")
            args.append(day.isoformat() if dialect.dates_as_text else day)
    if filters.category:
        clauses.append(
            f"EXISTS (SELECT 1 FROM paper_categories c WHERE c.paper_pk = {alias}.pk"
            f" AND (c.category = {ph} OR c.category LIKE {ph} ESCAPE '\\'))"
        )
        args += [filters.category, like_escape(filters.category) + ".%"]
    if filters.author:
        clauses.append(dialect.contains.format(hay=f"lower({alias}.author_names)", needle=f"lower({ph})"))
        args.append(filters.author)
    return (" AND ".join(clauses) or dialect.true), args


def candidate_sql(filters: Filters, dialect: Dialect, alias: str = "p") -> tuple[str, list[Any]]:
    """:func:`filter_sql` and the paper not hidden: the condition of every search candidate query."""
    where, args = filter_sql(filters, dialect, alias)
    return f"{where} AND {not_hidden_sql(alias + '.pk')}", args


def filter_pks_sql(filters: Filters, dialect: Dialect, among: Collection[int] | None = None) -> tuple[str, list[Any]]:
    """A query for the ``pk`` of every paper that passes ``filters`` and is not hidden, only among the keys ``among``
    if given (one parameter however many keys: a lookup of a few candidates stays a few index probes)."""
    where, args = candidate_sql(filters, dialect)
    if among is not None:
        keys = [int(k) for k in among]
        where += " AND " + dialect.in_keys.format(column="p.pk", param=dialect.param)
        args.append(json.dumps(keys) if dialect.keys_as_json else keys)
    return f"SELECT p.pk AS pk FROM papers p WHERE {where}", args


def newest_pk_sql(filters: Filters, dialect: Dialect) -> tuple[str, list[Any]]:
    """A query whose one row and column ``pk`` is the key of the newest paper within the dates of ``filters`` (any
    date when they have none): where a keyword search of common words only ends its window of newest rows.

    With only added-day bounds the newest row is found on the index of ``added_at`` (papers_added_at), as a
    display-day bound is found on that of ``display_date``."""
    dates = Filters(since=filters.since, until=filters.until, added_since=filters.added_since,
                    added_until=filters.added_until)  # fmt: skip
    if not dates.active:
        return "SELECT max(pk) AS pk FROM papers", []
    where, args = filter_sql(dates, dialect)
    order = "p.display_date DESC, p.pk DESC" if filters.since or filters.until else "p.added_at DESC, p.pk DESC"
    return f"SELECT p.pk AS pk FROM papers p WHERE {where} ORDER BY {order} LIMIT 1", args


def like_escape(text: str) -> str:
    """``text`` as a literal LIKE pattern (escape character backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
