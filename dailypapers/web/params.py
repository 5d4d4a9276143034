"""Typed request parameters every feature shares, documented exactly as they are checked.

A day is an OpenAPI ``format: date`` (``YYYY-MM-DD``, years 0001-9999), a week or a month matches
:data:`WEEK_PATTERN` / :data:`MONTH_PATTERN` (years 1000-2999, as in the Hugging Face compatible API), a query is
at most :data:`MAX_QUERY_LENGTH` characters. A value outside them is a 400 whose sentence names the parameter and
the form it must have (see :mod:`dailypapers.web.errors`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from fastapi import HTTPException, Path, Query
from pydantic import BeforeValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from dailypapers.config import Config
from dailypapers.papers.periods import Period, parse_month, parse_week

MAX_PAGE = 10_000
MAX_QUERY_LENGTH = Config.max_query_length
"""The longest query the schema documents (the configured default); a lower configured limit is checked too."""
WEEK_PATTERN = r"^[12][0-9]{3}-W(0[1-9]|[1-4][0-9]|5[0-3])$"
MONTH_PATTERN = r"^[12][0-9]{3}-(0[1-9]|1[0-2])$"
DAY_FORM = "a date (YYYY-MM-DD)"
WEEK_FORM = "an ISO week (YYYY-Www) with a year from 1000 to 2999"
MONTH_FORM = "a month (YYYY-MM) with a year from 1000 to 2999"
_DAY_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Sort = Literal["added", "upvotes", "trending"]
Mode = Literal["hybrid", "keyword", "semantic"]
PageParam = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")]
SortParam = Annotated[
    Sort,
    Query(
        description="Order of the list: `added` (newest first), `upvotes` (most upvoted first) or `trending`"
        " (upvotes decayed by age: `upvotes / (age_hours + 2) ** 1.5`)."
    ),
]


def bad_form(form: str) -> PydanticCustomError:
    """A validation error that :mod:`dailypapers.web.errors` words as "'<name>' must be <form>."."""
    return PydanticCustomError("bad_form", "must be {form}", {"form": form})


def _iso_date(value: object) -> object:
    """``YYYY-MM-DD`` and nothing else (pydantic alone would also take ``0`` or a datetime)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DAY_TEXT.fullmatch(value):
        raise bad_form(DAY_FORM)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad_form(DAY_FORM) from None


def _blank_or_iso_date(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else _iso_date(value)


def _matching(pattern: str, form: str) -> Callable[[object], object]:
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise bad_form(form)
        return value

    return check


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A day, ``YYYY-MM-DD`` (OpenAPI ``format: date``)."""
FormDate = Annotated[
    date | None,
    BeforeValidator(_blank_or_iso_date),
    # the schema says what the validator takes: a day, or an empty string (a form's empty field: no limit)
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}]}),
]
"""A day from an HTML form, where an empty field means "no limit"."""
WeekText = Annotated[str, StringConstraints(pattern=WEEK_PATTERN), BeforeValidator(_matching(WEEK_PATTERN, WEEK_FORM))]
"""An ISO week, ``YYYY-Www`` (W53 names no week in most years: :func:`week_of` answers 404 for those)."""
MonthText = Annotated[
    str, StringConstraints(pattern=MONTH_PATTERN), BeforeValidator(_matching(MONTH_PATTERN, MONTH_FORM))
]
"""A month, ``YYYY-MM``."""


def week_of(text: str) -> Period:
    """The ISO week ``text`` (already of the form :data:`WEEK_PATTERN`); 404 when the year has no such week."""
    try:
        return parse_week(text)
    except ValueError:
        raise HTTPException(404, f"There is no week {text[-2:]} in {text[:4]}; it has 52 weeks.") from None


def month_of(text: str) -> Period:
    """The month ``text`` (already of the form :data:`MONTH_PATTERN`)."""
    return parse_month(text)


QueryParam = Annotated[
    str,
    Query(max_length=MAX_QUERY_LENGTH, description="What to look for: words, a title, or an arXiv id or URL."),
]
CategoryParam = Annotated[
    str | None, Query(max_length=100, description="Only papers in this category (`cs.LG`, or a prefix: `cs`).")
]
AuthorParam = Annotated[
    str | None, Query(max_length=200, description="Only papers with an author whose name contains this.")
]
ModeParam = Annotated[
    Mode, Query(description="`hybrid` (keywords and meaning, fused), `keyword` (BM25) or `semantic` (embeddings).")
]

PaperIdPath = Annotated[
    str, Path(description="Paper id; a version suffix (`2106.09685v2`) is accepted.", examples=["2106.09685"])
]
"""A paper id in a path (``{paper_id:path}``: old arXiv ids such as ``hep-th/9901001`` have a slash)."""
