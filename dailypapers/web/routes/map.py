"""The topic map: ``/map`` (HTML) and ``/api/map`` (JSON), one view; ``/api/map/titles`` (the hover texts).

The page lists the topics (each a link to a search for its label terms), so it is useful without JavaScript; with
it, ``static/map.js`` draws every paper on a canvas from the JSON twin. The points travel as compact parallel
arrays (positions as integers 0..10000, days and categories as indexes into two short lists), and their titles
in a second request that the page makes after its first paint, so 100k papers start drawing in well under a
second. ``?q=`` highlights the results of that search (its first :data:`HIGHLIGHT` hits); a signed-in visitor's
upvoted and saved papers are highlighted too. ``since``, ``until`` and ``category`` set the page's filter (the
browser filters: the points are the same for every filter, so one response is cached for all of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote_plus

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from dailypapers.library import Library
from dailypapers.topics.repository import Cluster, Points
from dailypapers.web.deps import LibraryDep
from dailypapers.web.params import CategoryParam, FormDate
from dailypapers.web.responses import SafeJSONResponse
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.identity import current_user
from dailypapers.web.views import Html, Json, view

router = APIRouter(responses=ERROR_RESPONSES)
HIGHLIGHT = 100  # search results highlighted on the map
SCALE = 10_000  # positions travel as integers in [0, SCALE]


class TopicOut(BaseModel):
    id: int
    label: str
    terms: list[str]
    size: int
    x: int
    y: int
    search_url: str


class MapPointsOut(BaseModel):
    id: list[str] = Field(description="Paper ids; index i of every array is one paper.")
    x: list[int] = Field(description=f"Horizontal position, 0..{SCALE}.")
    y: list[int] = Field(description=f"Vertical position, 0..{SCALE} (downwards).")
    topic: list[int] = Field(description="The paper's topic (an id of `topics`).")
    day: list[int] = Field(description="Index into `days` of the day the paper entered the list (-1: unknown).")
    category: list[int] = Field(description="Index into `categories` of its primary category (-1: none).")


class MapOut(BaseModel):
    generation: int = Field(description="The layout's generation: it grows when the whole map is recomputed.")
    count: int
    topics: list[TopicOut]
    days: list[str]
    categories: list[str]
    points: MapPointsOut
    query: str
    search: list[int] = Field(description="Indexes of the points among the search's results (`q`).")
    mine: list[int] = Field(description="Indexes of the points the signed-in user upvoted or saved.")
    titles_url: str


@dataclass
class MapView:
    clusters: list[Cluster]
    points: Points
    query: str
    since: date | None
    until: date | None
    category: str | None
    search: list[int] = field(default_factory=list)
    mine: list[int] = field(default_factory=list)


def _search_url(cluster: Cluster) -> str:
    return "/search?q=" + quote_plus(" ".join(cluster.terms[:3]))


def _highlights(request: Request, library: Library, points: Points, q: str) -> tuple[list[int], list[int]]:
    index = {pk: i for i, pk in enumerate(points.pks)}
    search: list[int] = []
    if q.strip():
        found = library.search.query(q, page_size=HIGHLIGHT)
        search = [index[r.paper.pk] for r in found.results if r.paper.pk in index]
    user = current_user(request)
    mine = sorted(index[pk] for pk in library.tastes.get(user.id).positives if pk in index) if user else []
    return search, mine


@dataclass
class _Compact:
    """The points as the JSON twin sends them (cached per layout: see :func:`_compact`)."""

    body: dict[str, Any]
    key: tuple[int, int, int]


_cache: dict[int, _Compact] = {}


def _compact(library: Library, points: Points) -> dict[str, Any]:
    """Points as parallel integer arrays; the encoding is kept per library until the points change."""
    key = (library.topics.generation(), len(points.pks), hash(tuple(points.pks[-50:])))
    hit = _cache.get(id(library))
    if hit is not None and hit.key == key:
        return hit.body
    days = sorted({d for d in points.day if d})
    categories = sorted({c for c in points.category if c})
    day_index, category_index = {d: i for i, d in enumerate(days)}, {c: i for i, c in enumerate(categories)}
    body = {
        "days": days,
        "categories": categories,
        "points": {
            "id": points.ids,
            "x": [round(v * SCALE) for v in points.x],
            "y": [round(v * SCALE) for v in points.y],
            "topic": points.cluster,
            "day": [day_index.get(d, -1) for d in points.day],
            "category": [category_index.get(c, -1) for c in points.category],
        },
    }
    _cache[id(library)] = _Compact(body, key)
    return body


def _json(request: Request, found: MapView) -> dict[str, Any]:
    library: Library = request.app.state.library
    topics = [
        dict(id=c.id, label=c.label, terms=c.terms, size=c.size, x=round(c.x * SCALE), y=round(c.y * SCALE),
             search_url=_search_url(c))
        for c in found.clusters
    ]  # fmt: skip
    return {
        "generation": library.topics.generation(),
        "count": len(found.points.pks),
        "topics": topics,
        **_compact(library, found.points),
        "query": found.query,
        "search": found.search,
        "mine": found.mine,
        "titles_url": "/api/map/titles",
    }


def _context(request: Request, found: MapView) -> dict[str, Any]:
    library: Library = request.app.state.library
    newest = library.papers.latest_day()
    api = "/api/map" + (f"?q={quote_plus(found.query)}" if found.query else "")
    return {
        "view": found,
        "topics": [(c, _search_url(c)) for c in found.clusters],
        "rising": library.topics.rising_topics(newest),
        "json_url": api,
        "signed_in": current_user(request) is not None,
        "hide_header_search": False,
    }


@view(
    router,
    Html("/map", "map.html", _context, summary="The topic map (HTML)"),
    Json("/api/map", MapOut, _json, summary="The topic map: topics and every paper's point"),
)
def topic_map(
    request: Request,
    library: LibraryDep,
    q: Annotated[str, Query(max_length=1000, description="Highlight the results of this search.")] = "",
    since: Annotated[FormDate, Query(description="Show papers added on or after this day (YYYY-MM-DD).")] = None,
    until: Annotated[FormDate, Query(description="Show papers added on or before this day (YYYY-MM-DD).")] = None,
    category: CategoryParam = None,
) -> MapView:
    """Every paper as a point of the topic map, its topics with their labels, and what to highlight."""
    points = library.topics.points()
    found = MapView(library.topics.clusters(), points, q, since, until, category)
    found.search, found.mine = _highlights(request, library, points, q)
    return found


class TitlesOut(BaseModel):
    generation: int
    titles: list[str] = Field(description="The papers' titles, in the order of `/api/map`'s points.")


@router.get("/api/map/titles", response_model=TitlesOut, summary="The titles of the topic map's points", tags=["api"])
def map_titles(library: LibraryDep) -> SafeJSONResponse:
    """What the map shows on hover, in the order of ``/api/map``'s points (fetched after the first paint)."""
    points = library.topics.points()
    return SafeJSONResponse({"generation": library.topics.generation(), "titles": points.titles})
