"""Atom feeds (RFC 4287) of paper lists, written with feedgen: the daily list, a day, week or month, and any search.

A feed is one more rendering of a page's view: the entries are the papers the page lists, in its order, each with
its title, authors, categories, an abstract excerpt and a link to its page here. Links are absolute
where Atom wants them, built by :func:`dailypapers.web.templating.public_url` (``DAILYPAPERS_PUBLIC_URL``), so a
forged ``Host`` header never reaches a feed.

A list feed says whether its period is *final* — the next day has started in ``DAILYPAPERS_TIME_ZONE`` — in its
subtitle, and in a ``<category term="final"/>`` (or ``"in-progress"``) that readers can test, and its
``Cache-Control`` follows: a day long for a final period, five minutes for one still filling, so a reader does not
cache a half-filled day.

A list longer than a page is a *paged feed* (RFC 5005 §3): each document holds one page of the list (the page's
``p``, the page's size and order), and links to the ``first`` and ``last`` pages and to the ``next`` and
``previous`` ones, which a feed reader follows until a page has no ``next``; every page has the feed's id (its
address without ``p``), so the pages read as one feed. The daily, weekly and monthly feeds are paged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from fastapi import Request
from feedgen.feed import FeedGenerator
from starlette.responses import Response

from dailypapers.papers.models import Paper, strip_controls
from dailypapers.web.templating import paper_url, public_url

ATOM = "application/atom+xml"
EXCERPT = 1000  # characters of the abstract in an entry: readers show a summary, the page has the rest
FINAL_MAX_AGE = 24 * 3600
OPEN_MAX_AGE = 300


def local_today(time_zone: str) -> date:
    """Today in the configured time zone (the day the daily list is filling)."""
    return datetime.now(ZoneInfo(time_zone)).date()


def _text(value: str) -> str:
    """Text safe for XML: papers imported before control characters were stripped may still hold some."""
    return strip_controls(value)


def _moment(paper: Paper) -> datetime:
    if paper.updated or paper.published:
        return (paper.updated or paper.published).astimezone(UTC)  # type: ignore[union-attr]
    return datetime.combine(paper.added_at or date(1970, 1, 1), time(), tzinfo=UTC)


def _entry(fg: FeedGenerator, request: Request, paper: Paper) -> None:
    page = public_url(request, paper_url(paper.id))
    fe = fg.add_entry(order="append")
    fe.id(page)
    fe.title(_text(paper.title))
    # One link, the paper's page here (which links to arXiv): feedgen 1.0 writes an entry's links without their
    # rel, so a second link would read as a second "alternate" (RFC 4287 §4.2.7.2: no rel means alternate).
    fe.link(href=page)
    abstract = _text(paper.abstract)
    fe.summary(abstract if len(abstract) <= EXCERPT else abstract[:EXCERPT].rsplit(" ", 1)[0] + " …")
    for name in paper.authors:
        fe.author(name=_text(name))
    for category in paper.categories:
        fe.category(term=_text(category))
    fe.updated(_moment(paper))
    if paper.published:
        fe.published(paper.published.astimezone(UTC))


def atom_response(
    request: Request,
    *,
    title: str,
    page_path: str,
    papers: list[Paper],
    final: bool | None = None,
    subtitle: str = "",
    paging: tuple[int, int] | None = None,
) -> Response:
    """The Atom feed of ``papers`` (the list at ``page_path``); ``final``: whether its period is over (None: a
    list without a period, such as a search); ``paging``: ``(page, pages)`` of a paged feed (RFC 5005 §3)."""
    fg = FeedGenerator()
    self_url = public_url(request, request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    fg.id(page_url(request, 1) if paging else self_url)
    fg.title(_text(title))
    fg.link(href=public_url(request, page_path), rel="alternate", type="text/html")
    fg.link(href=self_url, rel="self", type=ATOM)
    if paging is not None:
        _paging_links(fg, request, *paging)
    if final is not None:
        state = "final: no more papers will join it" if final else "in progress: papers may still join it"
        subtitle = f"{subtitle} ({state})" if subtitle else state.capitalize()
        fg.category(term="final" if final else "in-progress", label="Whether the list is complete")
    if subtitle:
        fg.subtitle(_text(subtitle))
    fg.generator("dailypapers")
    moments = [_moment(p) for p in papers]
    fg.updated(max(moments) if moments else datetime.now(UTC))
    for paper in papers:
        _entry(fg, request, paper)
    max_age = FINAL_MAX_AGE if final else OPEN_MAX_AGE
    return Response(
        fg.atom_str(pretty=True), media_type=f"{ATOM}; charset=utf-8", headers={"Cache-Control": f"max-age={max_age}"}
    )


def page_url(request: Request, page: int) -> str:
    """The absolute address of page ``page`` of this feed: its other parameters kept, no ``p`` on the first."""
    url = request.url.remove_query_params("p")
    if page > 1:
        url = url.include_query_params(p=page)
    return public_url(request, url.path + (f"?{url.query}" if url.query else ""))


def _paging_links(fg: FeedGenerator, request: Request, page: int, pages: int) -> None:
    """RFC 5005 §3: ``first`` and ``last`` always, ``previous`` and ``next`` where there is such a page."""
    fg.link(href=page_url(request, 1), rel="first", type=ATOM)
    if page > 1:
        fg.link(href=page_url(request, min(page - 1, pages)), rel="previous", type=ATOM)
    if page < pages:
        fg.link(href=page_url(request, page + 1), rel="next", type=ATOM)
    fg.link(href=page_url(request, pages), rel="last", type=ATOM)
