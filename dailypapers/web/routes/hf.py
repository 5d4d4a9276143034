"""Hugging Face compatible papers API: point ``HF_ENDPOINT`` at dailypapers and ``huggingface_hub`` just works.

Serves what ``HfApi.list_papers``, ``paper_info``, ``list_daily_papers`` and ``read_paper`` (and the ``hf papers``
CLI) request, in the shapes they parse (see :mod:`dailypapers.web.hf_format`):

* ``GET /api/papers/search?q=&limit=`` — search results as daily items (no ``q``: the newest papers).
* ``GET /api/daily_papers?p=&limit=&sort=&date=&week=&month=&submitter=`` — the daily list. ``date``, ``week`` and
  ``month`` filter on the day a paper entered the list (not its arXiv date); given together, they intersect.
  Without them the whole list is paged, newest first. ``submitter`` keeps the papers a user submitted (their
  username, any case), or with the importer's name (``dailypapers``) those no user submitted, in the same order
  and pages as the whole list (:func:`submitted_page`). ``sort=trending`` ranks by
  :func:`dailypapers.papers.trending.trending`; without a date filter it ranks the papers of the last
  :data:`TRENDING_WINDOW_DAYS` days with papers. A ``Link: <...>; rel="next"`` header names the next page: an
  absolute URL (``huggingface_hub`` follows it as it is) under the configured ``public_url``, or on the request's
  host only when that is the server's own address, else a relative one (a forged ``Host`` is never echoed; see
  :func:`dailypapers.web.templating.public_url`).
* ``GET /api/papers/{id}`` — one flat paper object; version-suffixed arXiv ids resolve too.
* ``GET /papers/{id}.md`` — the paper as Markdown.

Read endpoints need no token and ignore any ``Authorization`` header. Errors use the site's one shape
(:mod:`dailypapers.web.errors`): ``{"ok": false, "error": ..., "status": ...}`` plus ``X-Error-Message``, which
is what ``huggingface_hub`` shows in its exceptions; a bad parameter is a 400. A paper that cannot be put in these
shapes is a bug on the server's side: a 500 (:class:`ShapeError`), never a 400 with pydantic's text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ValidationError

from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.papers.periods import Period, day_period, parse_month, parse_week
from dailypapers.papers.trending import day_weights
from dailypapers.web.deps import LibraryDep
from dailypapers.web.errors import sentence
from dailypapers.web.hf_format import (
    IMPORTER_USERNAME,
    HfDailyItem,
    HfPaper,
    HfUser,
    daily_item,
    flat_paper,
    paper_markdown,
    submitter,
)
from dailypapers.web.params import MAX_QUERY_LENGTH, IsoDate, MonthText, WeekText
from dailypapers.web.responses import allow_head
from dailypapers.web.schemas import ErrorOut
from dailypapers.web.templating import paper_url, public_url
from dailypapers.web.voters import with_set_links

router = APIRouter(tags=["Hugging Face compatible"])

MAX_QUERY = MAX_QUERY_LENGTH
MAX_PAGE = 100_000
TRENDING_WINDOW_DAYS = 14
"""Without a date filter, ``sort=trending`` ranks the papers added in this many days up to the newest day."""
ALL_TIME = Period("all", date.min, date.max)
_UNSAFE_HEADER_CHARS = re.compile(r"[^\x20-\x7e]")


_ERROR_HEADERS = {"X-Error-Message": {"description": "The error message again.", "schema": {"type": "string"}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "A parameter is not valid.", "headers": _ERROR_HEADERS},
    "4XX": {"model": ErrorOut, "description": "Any other client error, in the same shape.", "headers": _ERROR_HEADERS},
}
_LINK = {
    "Link": {
        "description": 'The next page, as `<URL>; rel="next"`; absent on the last page.',
        "schema": {"type": "string"},
    }
}


PaperIdParam = Annotated[
    str,
    Path(
        description="arXiv id (`2106.09685`, `2106.09685v2`, `hep-th/9711200`) or dailypapers' `dp-` id.",
        examples=["2106.09685"],
    ),
]


class MarkdownResponse(PlainTextResponse):
    media_type = "text/markdown"


class ShapeError(RuntimeError):
    """A stored paper that does not fit a Hugging Face shape. pydantic's ``ValidationError`` is a ``ValueError``,
    which the site answers as the client's mistake (400); this is ours, so it must reach the 500 handler."""


Shape = TypeVar("Shape", bound=BaseModel)


def shaped(build: Callable[[Paper, int, HfUser], Shape], papers: list[Paper], library: Library) -> list[Shape]:
    """``build(paper, its comment count, its submitter)`` for each paper (the counts and submitters of the whole
    list in one query each); a validation failure becomes a :class:`ShapeError` naming the paper."""
    pks = [p.pk for p in papers if p.pk is not None]
    counts = library.comments.counts(pks)
    names = library.submissions.submitted_by(pks)
    papers = with_set_links(library, papers)  # githubRepo/projectPage: the links people set
    extracted = library.topics.phrases_of(pks)  # ai_keywords, ai_summary: key phrases and key sentence (issue 24)
    out = []
    for paper in papers:
        pk = paper.pk if paper.pk is not None else -1
        try:
            item = build(paper, counts.get(pk, 0), submitter(names.get(pk)))
            if pk in extracted and isinstance(item, HfDailyItem | HfPaper):
                item.ai_keywords, item.ai_summary = extracted[pk][0] or None, extracted[pk][1] or None
            out.append(item)
        except ValidationError as exc:
            raise ShapeError(f"paper {paper.id!r} does not fit {build.__name__}: {exc}") from exc
    return out


def requested_period(day: date | None, week: str | None, month: str | None) -> Period | None:
    """The period the filters select (their intersection); ``None`` when they select no day at all (also for
    week 53 of a year that has 52). ``week`` and ``month`` are already of the documented forms."""
    periods = [] if day is None else [day_period(day)]
    if week is not None:
        try:
            periods.append(parse_week(week))
        except ValueError:
            return None
    if month is not None:
        periods.append(parse_month(month))
    if len(periods) <= 1:
        return periods[0] if periods else ALL_TIME
    start, end = max(p.start for p in periods), min(p.end for p in periods)
    return Period("range", start, end) if start <= end else None


def trending_period(library: Library, period: Period) -> Period | None:
    """The papers ``sort=trending`` ranks: those of ``period``; with no period, the last 14 days that end with the
    newest day that has papers (as Hugging Face does); None when there are no papers."""
    if period is not ALL_TIME:
        return period
    newest = library.papers.latest_day()
    if newest is None:
        return None
    return Period("range", newest - timedelta(days=TRENDING_WINDOW_DAYS - 1), newest)


def list_key(order: str, now: datetime) -> Callable[[Paper], tuple[Any, ...]]:
    """The sort key of the store's list order (:mod:`dailypapers.papers.store.list_sql`) for papers of one period:
    ``added`` is newest added first, then the newest key; ``trending`` is ``upvotes × the day's weight at now``,
    then newest added, most upvoted, id, computed as the store computes it (the same weights, multiplied), so that
    a paper compares with a page of the list exactly. Every day of a period this API ranks (at most a month) has
    its weight."""
    if order != "trending":
        return lambda p: (-(p.added_at or date.min).toordinal(), -(p.pk or 0))
    weights: dict[date, float] = {}

    def key(p: Paper) -> tuple[Any, ...]:
        day = p.added_at or date.min
        if day not in weights:
            weights.update(day_weights([day], now))
        return (-(p.upvotes * weights[day]), -day.toordinal(), -p.upvotes, p.id)

    return key


def submitted_page(
    library: Library, period: Period, order: str, who: str, offset: int, limit: int, now: datetime
) -> tuple[list[Paper], int]:
    """A page of the papers of ``period`` (in ``order``) whose submitter is ``who`` (a username; for the importer's
    name, the papers no user submitted), and how many there are. Submitted papers are few (submissions are
    rate-limited), so they are loaded whole: a user's are sorted by :func:`list_key`; the importer's are the list
    without them, whose page starts ``offset`` papers in once the submitted papers before it are skipped too."""
    submitted = library.submissions.submitted_between(period.start, period.end)
    theirs = library.papers.by_pks(list(submitted))
    key = list_key(order, now)
    if who != IMPORTER_USERNAME:
        mine = sorted((p for p in theirs if submitted.get(p.pk or -1) == who), key=key)
        return mine[offset : offset + limit], len(mine)
    total = library.papers.count_in(period) - len(theirs)
    # The list from ``offset`` on, long enough to hold the page however many submitted papers fall in it.
    window = library.papers.in_period(period, limit=limit + len(theirs), offset=offset, sort=order, now=now)
    if not window:
        return [], total
    first = key(window[0])
    skipped = sum(1 for p in theirs if key(p) < first)  # submitted papers before the window: the page starts later
    imported = [p for p in window if p.pk not in submitted]
    return imported[skipped : skipped + limit], total


@router.get(
    "/api/papers/search",
    response_model=list[HfDailyItem],
    responses=_ERRORS,
    summary="Search papers (Hugging Face compatible)",
)
def search_papers(
    library: LibraryDep,
    q: Annotated[
        str | None, Query(max_length=MAX_QUERY, description="Search text (keywords, a title or an arXiv id).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=120, description="How many results to return.")] = 50,
) -> list[HfDailyItem]:
    """Papers matching ``q`` (hybrid keyword and semantic search), best first; without ``q``, the newest papers."""
    if q is None or not q.strip():
        papers = library.papers.in_period(ALL_TIME, limit=limit)
    else:
        papers = [r.paper for r in library.search.query(q, page=1, page_size=limit).results]
    return shaped(daily_item, papers, library)


@router.get(
    "/api/daily_papers",
    response_model=list[HfDailyItem],
    responses={200: {"headers": _LINK}, **_ERRORS},
    summary="The daily list (Hugging Face compatible)",
)
def daily_papers(
    request: Request,
    response: Response,
    library: LibraryDep,
    p: Annotated[int, Query(ge=0, le=MAX_PAGE, description="Page number, from 0.")] = 0,
    limit: Annotated[int, Query(ge=1, le=100, description="Papers per page.")] = 50,
    sort: Annotated[
        Literal["publishedAt", "trending"],
        Query(description="`publishedAt`: newest added first; `trending`: upvotes decayed by age."),
    ] = "publishedAt",
    day: Annotated[
        IsoDate | None,
        Query(alias="date", description="Day the papers entered the list (YYYY-MM-DD).", examples=["2026-11-20"]),
    ] = None,
    week: Annotated[
        WeekText | None,
        Query(
            description="ISO week they entered the list (YYYY-Www, years 1000-2999); W53 of a year that has 52 "
            "weeks selects no papers.",
            examples=["2026-W47"],
        ),
    ] = None,
    month: Annotated[
        MonthText | None,
        Query(description="Month they entered the list (YYYY-MM, years 1000-2999).", examples=["2026-11"]),
    ] = None,
    submitter: Annotated[
        str | None,
        Query(
            description="Username of the user who submitted the papers (any case); "
            f"`{IMPORTER_USERNAME}`: the papers no user submitted, which came from importers.",
        ),
    ] = None,
) -> list[HfDailyItem]:
    """One page of the daily list. An empty page past the end; 400 for an invalid date, week or month."""
    period = requested_period(day, week, month)
    listed = trending_period(library, period) if sort == "trending" and period is not None else period
    if listed is None:
        return []
    offset, order, now = p * limit, "trending" if sort == "trending" else "added", datetime.now(UTC)
    if submitter is None:
        papers = library.papers.in_period(listed, limit=limit, offset=offset, sort=order, now=now)
        total = library.papers.count_in(listed)
    else:
        papers, total = submitted_page(library, listed, order, submitter.casefold(), offset, limit, now)
    if offset + limit < total:
        nxt = request.url.include_query_params(p=p + 1)
        response.headers["Link"] = f'<{public_url(request, f"{nxt.path}?{nxt.query}")}>; rel="next"'
    return shaped(daily_item, papers, library)


@router.get(
    "/api/papers/{paper_id:path}",
    response_model=HfPaper,
    responses={404: {"model": ErrorOut, "description": "No such paper.", "headers": _ERROR_HEADERS}, **_ERRORS},
    summary="One paper (Hugging Face compatible)",
)
def paper_info(library: LibraryDep, paper_id: PaperIdParam) -> HfPaper:
    """The paper with this id: an arXiv id (a version suffix such as ``v2`` is ignored) or a ``dp-`` id."""
    paper = library.papers.get(paper_id)
    if paper is None:
        raise HTTPException(404, f"There is no paper with id '{paper_id[:100]}'.")
    return shaped(flat_paper, [paper], library)[0]


@router.get(
    "/papers/{paper_id:path}.md",
    response_class=MarkdownResponse,
    responses={
        200: {"content": {"text/markdown": {"schema": {"type": "string"}}}, "description": "The paper as Markdown."},
        404: {"model": ErrorOut, "description": "No such paper.", "headers": _ERROR_HEADERS},
        "4XX": _ERRORS["4XX"],
    },
    summary="One paper as Markdown (Hugging Face compatible)",
)
def paper_markdown_page(request: Request, library: LibraryDep, paper_id: PaperIdParam) -> Response:
    """Title, authors, dates, links and abstract as Markdown (``HfApi.read_paper``). Full text is not included."""
    paper = library.papers.get(paper_id)
    if paper is None:
        # A machine reads this URL (like the API), so the error is JSON here too, whatever the site does for pages.
        message = sentence(f"There is no paper with id '{paper_id[:100]}'")
        return JSONResponse(
            {"ok": False, "error": message, "status": 404},
            status_code=404,
            headers={"X-Error-Message": _UNSAFE_HEADER_CHARS.sub("?", message)},
        )
    return MarkdownResponse(paper_markdown(paper, public_url(request, paper_url(paper.id))))


allow_head(router)  # HEAD wherever GET (see dailypapers.web.routes.allow_head)
