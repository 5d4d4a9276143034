"""The Jinja2 environment of the HTML pages and the small helpers templates call (URLs, dates, navigation).

Autoescaping is on for every template, so text from papers and queries is always escaped; the only markup
inserted as-is is :class:`markupsafe.Markup` built by :mod:`dailypapers.search.highlight` from escaped text.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.responses import Response

from dailypapers.papers.models import author_slug
from dailypapers.papers.periods import Period, day_period, month_period, week_period
from dailypapers.web.security.csrf import csrf_token
from dailypapers.web.security.identity import current_user

log = logging.getLogger("dailypapers.web")

SITE_NAME = "dailypapers"
TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
_PERIOD_PATHS = {"day": "/papers/date/", "week": "/papers/week/", "month": "/papers/month/"}
_API_PATHS = {"day": "/api/days/", "week": "/api/weeks/", "month": "/api/months/"}
FIRST_YEAR, LAST_YEAR = 1000, 2999
"""Weeks and months have pages (and API twins) in these years only; days in every year of the calendar."""


def period_url(period: Period) -> str:
    """The page of a day, week or month."""
    return _PERIOD_PATHS[period.kind] + period.key


def api_period_url(period: Period) -> str:
    """The JSON twin of :func:`period_url`."""
    return _API_PATHS[period.kind] + period.key


def paper_url(paper_id: str) -> str:
    """The page of a paper (old arXiv ids keep their slash: ``/papers/hep-th/9901001``)."""
    return "/papers/" + quote(paper_id, safe="/")


def author_url(name: str) -> str | None:
    """The page of an author name (``/authors/`` + its slug, the one place slugs become URLs); ``None`` for a name
    without letters or digits, which has no page and is shown without a link."""
    slug = author_slug(name)
    return author_page_url(slug) if slug else None


def author_page_url(slug: str) -> str:
    """The page of an author slug."""
    return "/authors/" + quote(slug, safe="")


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an http(s) link, else ``None`` (never a ``javascript:`` link from imported data)."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def query_url(request: Request, path: str | None = None, **changes: Any) -> str:
    """The current URL (or ``path``) with query parameters replaced; empty values and ``p=1`` are dropped."""
    params: dict[str, Any] = dict(request.query_params)
    params.update(changes)
    kept = {k: v for k, v in params.items() if v not in (None, "") and not (k == "p" and str(v) == "1")}
    target = request.url.path if path is None else path
    return target + ("?" + urlencode(kept) if kept else "")


_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _trusted_host(request: Request) -> str | None:
    """The request's ``Host`` when it names the address this server listens on (``scope["server"]``, which the
    client cannot forge; on a loopback address any loopback name), otherwise ``None``."""
    server = request.scope.get("server")
    host = request.headers.get("host", "").lower()
    if not server or not server[0] or not host:
        return None
    name, port = str(server[0]).lower(), server[1]
    names = _LOOPBACK if name in _LOOPBACK else {name}
    bracketed = {f"[{n}]" if ":" in n else n for n in names}  # IPv6 literals are bracketed in a Host header
    allowed = {f"{n}:{port}" for n in bracketed}
    if port == {"http": 80, "https": 443}.get(str(request.scope.get("scheme"))):
        allowed |= bracketed
    return host if host in allowed else None


def public_url(request: Request, path: str) -> str:
    """An absolute URL of ``path`` (path and query) where one is needed: under the configured ``public_url``, else
    on the request's host only if :func:`_trusted_host` allows it, else ``path`` itself, relative. A forged
    ``Host`` header therefore never appears in a link."""
    configured: str = request.app.state.library.config.public_url
    if configured:
        return configured.rstrip("/") + path
    host = _trusted_host(request)
    scheme = "https" if request.scope.get("scheme") == "https" else "http"
    return f"{scheme}://{host}{path}" if host else path


def has_page(period: Period) -> bool:
    """Whether ``period`` has a page: every day does; weeks and months from :data:`FIRST_YEAR` to
    :data:`LAST_YEAR` (the ISO year, for a week)."""
    if period.kind == "day":
        return True
    year = period.start.isocalendar()[0] if period.kind == "week" else period.start.year
    return FIRST_YEAR <= year <= LAST_YEAR


def shift(period: Period, steps: int) -> Period | None:
    """The period ``steps`` away, or ``None`` where there is none with a page (past the calendar's ends, or a
    week or month outside :data:`FIRST_YEAR` to :data:`LAST_YEAR`)."""
    try:
        other = period.shifted(steps)
    except (ValueError, OverflowError):
        return None
    return other if has_page(other) else None


def _safe(make: Any, day: date) -> Period | None:
    try:
        other: Period = make(day)
    except (ValueError, OverflowError):
        return None
    return other if has_page(other) else None


def zoom_links(period: Period) -> list[tuple[str, str]]:
    """Links from a period to its neighbours in the other granularities: a day's week and month, a week's days
    and month, a month's weeks. Each is ``(label, url)``."""
    links: list[tuple[str, str]] = []
    if period.kind == "day":
        for make, fmt in ((week_period, "Week {w}"), (month_period, "{m}")):
            other = _safe(make, period.start)
            if other is not None:
                label = fmt.format(w=other.key[-2:], m=other.start.strftime("%B %Y"))
                links.append((label, period_url(other)))
    elif period.kind == "week":
        for offset in range(7):
            other = shift(day_period(period.start), offset)
            if other is not None:
                links.append((other.start.strftime("%a %d"), period_url(other)))
        month = _safe(month_period, period.start)
        if month is not None:
            links.append((month.start.strftime("%B %Y"), period_url(month)))
    else:
        week = _safe(week_period, period.start)
        while week is not None and week.start <= period.end:
            links.append((f"Week {week.key[-2:]}", period_url(week)))
            week = shift(week, 1)
    return links


def fmt_date(value: date | datetime | None) -> str:
    """``18 Nov 2026`` (a datetime shows its UTC day)."""
    if value is None:
        return ""
    return f"{value.day} {value.strftime('%b')} {value.year:04d}"  # %Y is not zero-padded before 1000 (glibc)


EXCERPT_CHARS = 2000
"""The most characters of an abstract a list page shows (the paper's own page shows all of it)."""
_MARKUP_TOKEN = re.compile(r"</?mark>|&(?:#\d+|#x[0-9a-fA-F]+|\w+);|[^<&]+|[<&]")


def _cut(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text``, shortened to the last word boundary when one is near."""
    head = text[:limit]
    space = head.rfind(" ")
    return head[:space] if space >= limit * 0.8 else head


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str | Markup:
    """``text`` cut to about ``limit`` characters at a word boundary, with an ellipsis when anything was cut.

    ``text`` may be :class:`Markup` from :mod:`dailypapers.search.highlight` (escaped text and ``<mark>`` tags):
    then characters are counted as they display (an entity is one) and a ``<mark>`` left open is closed.
    """
    if not isinstance(text, Markup):
        return text if len(text) <= limit else _cut(text, limit).rstrip() + "\N{HORIZONTAL ELLIPSIS}"
    out: list[str] = []
    left, marked = limit, False
    for token in _MARKUP_TOKEN.findall(str(text)):
        if token in ("<mark>", "</mark>"):
            marked = token == "<mark>"
            out.append(token)
            continue
        entity = token.startswith("&") and len(token) > 1
        size = 1 if entity else len(token)
        if size > left:
            out.append("" if entity else _cut(token, left))
            break
        out.append(token)
        left -= size
    else:  # everything fitted
        return text
    return Markup("".join(out).rstrip() + ("</mark>" if marked else "") + "\N{HORIZONTAL ELLIPSIS}")


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def nav_context(request: Request) -> dict[str, Any]:
    """Header links: the latest day with papers, its week and its month (today's, when there are none)."""
    day: date | None = None
    try:
        day = request.app.state.library.papers.latest_day()
    except Exception:  # the header must render even when the database does not answer
        log.warning("latest day unavailable for the header", exc_info=True)
    day = day or date.today()
    week = _safe(week_period, day)
    month = _safe(month_period, day)
    return {
        "nav_today": "/",
        "nav_week": period_url(week) if week else "/",
        "nav_month": period_url(month) if month else "/",
        "site_name": SITE_NAME,
    }


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        period_url=period_url,
        api_period_url=api_period_url,
        paper_url=paper_url,
        author_url=author_url,
        safe_url=safe_url,
        query_url=query_url,
        zoom_links=zoom_links,
        plural=plural,
    )
    env.filters["fmt_date"] = fmt_date
    env.filters["excerpt"] = excerpt
    return env


templates = Jinja2Templates(env=_environment(), context_processors=[nav_context])


# Every page's header shows who is signed in and carries the log-out form's CSRF token.
templates.env.globals.update(current_user=current_user, csrf_token=csrf_token)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """Render template ``name`` with ``context`` (plus ``request`` and the header links)."""
    return templates.TemplateResponse(request, name, context, status_code=status_code)
