"""Saved searches and their alerts: ``/alerts`` (HTML) and its JSON twin ``/api/alerts`` — one view (:func:`alerts`,
registered by :func:`dailypapers.web.views.view`), the user's saved searches each with the papers added since a day
that match it — plus the forms that save and delete a search
(``POST /saved-searches``, from the "Save this search" form of ``/search``; ``POST /saved-searches/{id}/delete``)
and the JSON API ``GET``/``POST /api/saved-searches`` and ``DELETE /api/saved-searches/{id}``.

What matches and the limits are the service's (:mod:`dailypapers.community.saved_searches`): another user's id is
a 404 everywhere, as an unknown one. Forms work without JavaScript and pass the app-wide security layer (CSRF,
origin) like every unsafe route; the API takes an API token (``Authorization: Bearer``) or a session with its CSRF
token in ``X-CSRF-Token``. Without a day, alerts cover the 7 days before the newest day that has papers and that
day (a quiet week still shows the last one); an empty ``since`` means the same. An anonymous visitor of ``/alerts``
is told to log in; the JSON answers 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from dailypapers.accounts.models import User
from dailypapers.community.saved_searches import AlertMatch, SavedSearch
from dailypapers.errors import BadInput, Conflict, NotSignedIn
from dailypapers.library import Library
from dailypapers.papers.store import Filters
from dailypapers.serialize import filters_json, iso_date, iso_datetime, paper_json
from dailypapers.web.deps import LibraryDep, UserDep, login_redirect
from dailypapers.web.params import MAX_QUERY_LENGTH, FormDate, IsoDate
from dailypapers.web.responses import SafeJSONResponse, allow_head
from dailypapers.web.schemas import ERROR_RESPONSES, FiltersOut, PaperOut
from dailypapers.web.security.identity import current_user
from dailypapers.web.templating import render
from dailypapers.web.views import Html, Json, view

router = APIRouter(responses=ERROR_RESPONSES, default_response_class=HTMLResponse)
API: dict[str, Any] = {"tags": ["api"], "response_class": SafeJSONResponse}  # the options of every JSON route

DEFAULT_DAYS = 7  # alerts without a day: papers added in the week before the newest day, and on it
MAX_LIMIT = 50
SHAREABLE_URL = 8000  # as /search: nginx refuses a request line past 8 KB by default
_SINCE = "Alerts for papers added on or after this day (YYYY-MM-DD); default: 7 days before the newest day."
_LIMIT = "Most new papers shown per saved search (1-50)."
_TEXT = 20_000  # form limits above the service's, so that its sentence ("at most 100 characters") is what shows
FormText = Annotated[str, Form(max_length=_TEXT)]
SidPath = Annotated[str, Path(max_length=200, description="The saved search's id.")]
LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=_LIMIT)]


@dataclass
class AlertsView:
    """``/alerts``: since when (None without papers), the newest day, each saved search with its new matches, and
    the day asked for (None: the default)."""

    since: date | None
    newest: date | None
    searches: list[tuple[SavedSearch, list[AlertMatch]]]
    asked: date | None = None


def alerts_view(library: Library, user: User, since: date | None, limit: int = 10) -> AlertsView:
    """The data of ``/alerts`` and ``/api/alerts`` for ``user``."""
    newest = library.papers.latest_day()
    start = since or (newest - timedelta(days=DEFAULT_DAYS) if newest else None)
    if start is None:
        return AlertsView(None, None, [(s, []) for s in library.saved_searches.list(user.id)], since)
    return AlertsView(start, newest, library.saved_searches.alerts(user.id, since=start, limit=limit), since)


def search_url(saved: SavedSearch) -> str | None:
    """The ``/search`` page of a saved search (None when its query makes the link too long to share)."""
    params = {"q": saved.query, **{k: v for k, v in filters_json(saved.filters).items() if v}}
    url = "/search?" + urlencode(params)
    return url if len(url) <= SHAREABLE_URL else None


class SavedSearchOut(BaseModel):
    id: str
    name: str
    query: str
    filters: FiltersOut
    created_at: str
    search_url: str | None = Field(description="Its `/search` page (null when the query is too long for a link).")


class AlertOut(PaperOut):
    score: float = Field(description="Rank of the match (fused keyword and vector ranks; higher is better).")
    reason: str = Field(description="Why it is shown: \"matches your saved search 'NAME'\".")
    similarity: float | None = Field(description="Cosine similarity of paper and query, when close in meaning.")
    keyword: bool = Field(description="Whether the paper has every word of the query.")


class SavedSearchAlertsOut(SavedSearchOut):
    matches: list[AlertOut]


class AlertsOut(BaseModel):
    ok: Literal[True] = True
    since: str | None = Field(description="Papers added on or after this day (null: no papers yet).")
    newest_day: str | None
    saved_searches: list[SavedSearchAlertsOut]


class SavedSearchListOut(BaseModel):
    ok: Literal[True] = True
    saved_searches: list[SavedSearchOut]


class DeletedOut(BaseModel):
    ok: Literal[True] = True
    deleted: str


class SavedSearchIn(BaseModel):
    """A search to save: the parameters of ``/api/search`` and a name (default: the query, cut)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt filter is an error, never silently dropped

    name: str = Field("", max_length=_TEXT, description="1-100 characters; empty: the query, cut at a word.")
    q: str = Field(max_length=MAX_QUERY_LENGTH, description="The query.")
    since: IsoDate | None = None
    until: IsoDate | None = None
    category: str | None = Field(None, max_length=_TEXT)
    author: str | None = Field(None, max_length=_TEXT)
    added_since: IsoDate | None = None
    added_until: IsoDate | None = None


def saved_json(saved: SavedSearch) -> dict[str, Any]:
    return {
        "id": saved.id,
        "name": saved.name,
        "query": saved.query,
        "filters": filters_json(saved.filters),
        "created_at": iso_datetime(saved.created_at),
        "search_url": search_url(saved),
    }


def alert_json(match: AlertMatch) -> dict[str, Any]:
    extra = {"score": match.score, "reason": match.reason, "similarity": match.similarity, "keyword": match.keyword}
    return {**paper_json(match.paper), **extra}


def _json(request: Request, view: AlertsView | None) -> dict[str, Any]:
    if view is None:  # a visitor
        raise NotSignedIn("Sign in first: this needs an account.")
    return {
        "ok": True,
        "since": iso_date(view.since),
        "newest_day": iso_date(view.newest),
        "saved_searches": [{**saved_json(s), "matches": [alert_json(m) for m in ms]} for s, ms in view.searches],
    }


def _context(request: Request, view: AlertsView | None, error: str | None = None) -> dict[str, Any]:
    """The page's context; a visitor (``view`` None) is asked to log in."""
    since_text = iso_date(view.asked) if view else None
    return {"view": view, "since_text": since_text or "", "error": error, "search_url": search_url}


@view(
    router,
    Html("/alerts", "alerts.html", _context, summary="Your saved searches and their new papers (HTML)"),
    Json("/api/alerts", AlertsOut, _json, summary="Your saved searches and their new papers",
         response_class=SafeJSONResponse),
)  # fmt: skip
def alerts(
    request: Request,
    library: LibraryDep,
    since: Annotated[FormDate, Query(description=_SINCE + " Empty: the default.")] = None,
    limit: LimitParam = 10,
) -> AlertsView | None:
    """Each saved search with the papers added since `since` that match it, best first (and, on the page, a
    button to delete it). A visitor who is not signed in is asked to log in (the JSON: 401)."""
    user = current_user(request)
    return alerts_view(library, user, since, limit) if user else None


@router.post("/saved-searches", tags=["pages"], summary="Save a search (HTML form)")
def save_search(
    request: Request,
    library: LibraryDep,
    q: Annotated[str, Form(max_length=MAX_QUERY_LENGTH)] = "",
    name: FormText = "",
    since: Annotated[FormDate, Form()] = None,
    until: Annotated[FormDate, Form()] = None,
    category: FormText = "",
    author: FormText = "",
    added_since: Annotated[FormDate, Form()] = None,
    added_until: Annotated[FormDate, Form()] = None,
) -> Response:
    """The "Save this search" form of `/search`: saves the query and filters, then shows `/alerts` (303)."""
    user = current_user(request)
    if user is None:
        return login_redirect("/alerts")
    filters = Filters(since=since, until=until, category=category or None, author=author or None,
                      added_since=added_since, added_until=added_until)  # fmt: skip
    try:
        library.saved_searches.save(user.id, name=name, query=q, filters=filters)
    except (BadInput, Conflict) as exc:
        context = _context(request, alerts_view(library, user, None), exc.message)
        return render(request, "alerts.html", context, status_code=exc.status)
    return RedirectResponse("/alerts", status_code=303)


@router.post("/saved-searches/{sid}/delete", tags=["pages"], summary="Delete a saved search (HTML form)")
def delete_search(request: Request, library: LibraryDep, sid: SidPath) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect("/alerts")
    library.saved_searches.delete(user.id, sid)
    return RedirectResponse("/alerts", status_code=303)


# -- the JSON API of saved searches ---------------------------------------------------------------------------------
@router.get("/api/saved-searches", **API, response_model=SavedSearchListOut, summary="Your saved searches")
def api_saved_searches(library: LibraryDep, user: UserDep) -> dict[str, Any]:
    return {"ok": True, "saved_searches": [saved_json(s) for s in library.saved_searches.list(user.id)]}


@router.post(
    "/api/saved-searches",
    **API,
    status_code=201,
    response_model=SavedSearchOut,
    summary="Save a search (its new papers alert)",
)
def api_save_search(library: LibraryDep, user: UserDep, body: SavedSearchIn) -> dict[str, Any]:
    """Save a query with its filters (at most 50 per account; the same search again answers the one saved)."""
    b = body
    filters = Filters(since=b.since, until=b.until, category=b.category, author=b.author, added_since=b.added_since,
                      added_until=b.added_until)  # fmt: skip
    return saved_json(library.saved_searches.save(user.id, name=body.name, query=body.q, filters=filters))


@router.delete("/api/saved-searches/{sid}", **API, response_model=DeletedOut, summary="Delete a saved search")
def api_delete_search(library: LibraryDep, user: UserDep, sid: SidPath) -> dict[str, Any]:
    library.saved_searches.delete(user.id, sid)
    return {"ok": True, "deleted": sid}


allow_head(router)  # HEAD for /api/saved-searches (the view registers its own)
